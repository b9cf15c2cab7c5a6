"""Deterministic synthetic data for the Conditio "shapes" model family.

64x64 RGB images on a light background with one shape (circle, square, triangle, cross), one of six colours,
at one of five positions, in one of two sizes; plus the shape's mask, its outline and varied captions.
Everything is drawn from a numpy Generator, so a seed reproduces the data exactly.
"""
import numpy as np

SHAPES = ["circle", "square", "triangle", "cross"]  # index = class label (0..3); 4 = null / no class
NULL_CLASS = 4
COLORS = {
    "red": (215, 35, 35),
    "green": (30, 160, 55),
    "blue": (40, 80, 220),
    "yellow": (240, 200, 20),
    "purple": (135, 55, 185),
    "orange": (250, 130, 20),
}
COLOR_NAMES = list(COLORS)
POSITIONS = {
    "top left": (16.0, 16.0),
    "top right": (48.0, 16.0),
    "bottom left": (16.0, 48.0),
    "bottom right": (48.0, 48.0),
    "center": (32.0, 32.0),
}
POSITION_NAMES = list(POSITIONS)
SIZES = {"small": 7.0, "large": 12.0}  # half extent in pixels
SIZE_NAMES = list(SIZES)

S = 64
SS = 2  # supersampling for anti-aliased edges
_g = (np.arange(S * SS, dtype=np.float32) + 0.5) / SS
GX, GY = np.meshgrid(_g, _g)


def shape_mask_hr(shape, cx, cy, r):
    x, y = GX - cx, GY - cy
    if shape == "circle":
        return x * x + y * y <= r * r
    if shape == "square":
        h = r * 0.86
        return (np.abs(x) <= h) & (np.abs(y) <= h)
    if shape == "triangle":
        top, base = -r * 1.05, r * 0.85
        # upward triangle with apex (0, top), base corners (+-r*1.1, base)
        w = r * 1.1
        inside_y = (y >= top) & (y <= base)
        frac = (y - top) / (base - top)
        return inside_y & (np.abs(x) <= w * frac)
    if shape == "cross":
        t = r * 0.36
        return ((np.abs(x) <= r) & (np.abs(y) <= t)) | ((np.abs(y) <= r) & (np.abs(x) <= t))
    raise ValueError(shape)


def alpha_for(shape, cx, cy, r):
    m = shape_mask_hr(shape, cx, cy, r).astype(np.float32)
    return m.reshape(S, SS, S, SS).mean(axis=(1, 3))


def outline_of(mask):
    """mask bool [64,64] -> bool outline about 2 px thick (mask minus its erosion)."""
    m = mask
    er = m.copy()
    for dy, dx in [(-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1), (-1, 1), (1, -1)]:
        er &= np.roll(np.roll(m, dy, 0), dx, 1)
    er2 = er.copy()
    for dy, dx in [(-1, 0), (1, 0), (0, -1), (0, 1)]:
        er2 &= np.roll(np.roll(er, dy, 0), dx, 1)
    return m & ~er2


def sample_attrs(rng):
    return dict(shape=int(rng.integers(4)), color=int(rng.integers(len(COLORS))),
                pos=int(rng.integers(len(POSITIONS))), size=int(rng.integers(2)))


def render(attrs_list, rng, bg=None):
    """Render shapes (list of attrs dicts) on one light background; returns uint8 image, list of bool masks."""
    if bg is None:
        base = rng.uniform(228, 250)
        bg = np.clip(base + rng.uniform(-6, 6, size=3), 0, 255)
    img = np.ones((S, S, 3), np.float32) * np.asarray(bg, np.float32)
    masks = []
    for a in attrs_list:
        cx, cy = POSITIONS[POSITION_NAMES[a["pos"]]]
        cx += a.get("dx", 0.0)
        cy += a.get("dy", 0.0)
        r = SIZES[SIZE_NAMES[a["size"]]] * a.get("scale", 1.0)
        col = np.asarray(COLORS[COLOR_NAMES[a["color"]]], np.float32) + np.asarray(a.get("dcol", (0, 0, 0)), np.float32)
        al = alpha_for(SHAPES[a["shape"]], cx, cy, r)[..., None]
        img = img * (1 - al) + np.clip(col, 0, 255) * al
        masks.append(al[..., 0] > 0.5)
    return np.clip(np.round(img), 0, 255).astype(np.uint8), masks


def jitter(a, rng):
    a = dict(a)
    a["dx"], a["dy"] = rng.uniform(-3, 3, size=2)
    a["scale"] = rng.uniform(0.9, 1.1)
    a["dcol"] = rng.uniform(-12, 12, size=3)
    return a


def make_dataset(n, seed, two_shape_frac=0.0):
    """n samples: images uint8 [n,64,64,3], masks uint8 [n,64,64], outlines uint8, attrs int [n,4] (shape,color,pos,size)
    and, for two-shape samples, a distractor mask (second shape at another position; not in the caption)."""
    rng = np.random.default_rng(seed)
    imgs = np.zeros((n, S, S, 3), np.uint8)
    masks = np.zeros((n, S, S), np.uint8)
    outl = np.zeros((n, S, S), np.uint8)
    other = np.zeros((n, S, S), np.uint8)
    attrs = np.zeros((n, 4), np.int64)
    for i in range(n):
        a = jitter(sample_attrs(rng), rng)
        lst = [a]
        if rng.random() < two_shape_frac:
            b = jitter(sample_attrs(rng), rng)
            b["pos"] = int(rng.choice([p for p in range(4) if p != a["pos"]]))
            b["size"] = 0 if rng.random() < 0.7 else b["size"]
            lst = [b, a]  # a drawn last (on top)
        img, ms = render(lst, rng)
        imgs[i] = img
        masks[i] = ms[-1]
        outl[i] = outline_of(ms[-1])
        if len(ms) > 1:
            other[i] = ms[0] & ~ms[-1]
        attrs[i] = (a["shape"], a["color"], a["pos"], a["size"])
    return dict(images=imgs, masks=masks, outlines=outl, other=other, attrs=attrs)


# ----------------------------------------------------------------------------------------------------------- captions
POS_WORDS = {
    "top left": ["top left", "top left", "upper left", "top-left"],
    "top right": ["top right", "top right", "upper right", "top-right"],
    "bottom left": ["bottom left", "bottom left", "lower left", "bottom-left"],
    "bottom right": ["bottom right", "bottom right", "lower right", "bottom-right"],
    "center": ["center", "center", "centre", "middle"],
}
SIZE_WORDS = {"small": ["small", "small", "tiny", "little"], "large": ["large", "large", "big"]}
GENERIC_SHAPE = ["shape", "object", "thing", "blob"]


def _pos_phrase(rng, p):
    w = POS_WORDS[p][rng.integers(len(POS_WORDS[p]))]
    if p == "center":
        return [f"in the {w}", f"at the {w}", f"in the {w} of the image", w, f"{w}"][rng.integers(5)]
    return [f"at the {w}", f"in the {w}", f"{w} corner", f"in the {w} corner", w,
            f"at the {w} of the image", f"{w} of the picture"][rng.integers(7)]


def caption(attrs, rng, p_no_shape=0.0, p_no_size=0.4, p_no_pos=0.0):
    """A random wording for (shape, color, pos, size). With p_no_shape the shape word is replaced by a generic noun
    (the class label then carries the shape); with p_no_pos the position is left out (a control image carries it).
    p_no_pos = 0 draws nothing extra from rng, so captions of the stages that do not use it are unchanged."""
    sh, co, po, si = [int(v) for v in attrs]
    shape = SHAPES[sh] if rng.random() >= p_no_shape else GENERIC_SHAPE[rng.integers(len(GENERIC_SHAPE))]
    color = COLOR_NAMES[co]
    pos = POSITION_NAMES[po]
    size = SIZE_NAMES[si]
    sw = SIZE_WORDS[size][rng.integers(len(SIZE_WORDS[size]))] if rng.random() >= p_no_size else None
    noun = f"{sw} {color} {shape}" if sw else f"{color} {shape}"
    pp = _pos_phrase(rng, pos)
    k = rng.integers(6)
    art = "an" if noun[0] in "aeiou" else "a"
    if p_no_pos > 0 and rng.random() < p_no_pos:
        return [f"{art} {noun}", noun, f"a picture of {art} {noun}"][k % 3]
    if k == 0:
        return f"{art} {noun} {pp}"
    if k == 1:
        return f"{noun}, {pp}"
    if k == 2:
        return f"{art} {noun} {pp}".replace(" ,", ",")
    if k == 3:
        return f"{pp}: {art} {noun}"
    if k == 4:
        return f"a picture of {art} {noun} {pp}"
    return f"{noun} {pp}"


def caption_words():
    """Words (and punctuation) the captions use: the tokenizer's BPE is trained on these."""
    words = set()
    for lst in list(POS_WORDS.values()) + list(SIZE_WORDS.values()):
        for w in lst:
            words.update(w.replace("-", " - ").split())
    words.update(SHAPES + COLOR_NAMES + GENERIC_SHAPE)
    words.update("a an the at in on of image picture corner , : - . and with shapes drawing colour color".split())
    words.update("circles squares triangles crosses dot ring box star".split())
    return sorted(words)


CONTROL_NOTE = "control images: [3,64,64] in [0,1], white (1) shape mask or outline on black (0)"


def make_sketch_dataset(n, seed, r_range=(5.0, 14.0)):
    """n single-shape samples at continuous positions and sizes (not only the five positions and two sizes the
    captions name): half extent r uniform in r_range, centre uniform where the whole shape stays inside the image.
    Returns what make_dataset returns (attrs carry the nearest named position and size, for captions that leave the
    position out) plus geometry float [n, 3] (cx, cy, r)."""
    rng = np.random.default_rng(seed)
    imgs = np.zeros((n, S, S, 3), np.uint8)
    masks = np.zeros((n, S, S), np.uint8)
    outl = np.zeros((n, S, S), np.uint8)
    attrs = np.zeros((n, 4), np.int64)
    geom = np.zeros((n, 3), np.float32)
    cents = np.array([POSITIONS[p] for p in POSITION_NAMES])
    for i in range(n):
        a = sample_attrs(rng)
        r = float(rng.uniform(*r_range))
        ext = r * 1.1 + 1.0
        cx, cy = rng.uniform(ext, S - ext, size=2)
        a["pos"] = int(np.argmin(((cents - (cx, cy)) ** 2).sum(-1)))
        a["size"] = 0 if r < 9.5 else 1
        px, py = POSITIONS[POSITION_NAMES[a["pos"]]]
        a["dx"], a["dy"] = cx - px, cy - py
        a["scale"] = r / SIZES[SIZE_NAMES[a["size"]]]
        a["dcol"] = rng.uniform(-12, 12, size=3)
        img, ms = render([a], rng)
        imgs[i], masks[i], outl[i] = img, ms[0], outline_of(ms[0])
        attrs[i] = (a["shape"], a["color"], a["pos"], a["size"])
        geom[i] = (cx, cy, r)
    return dict(images=imgs, masks=masks, outlines=outl, attrs=attrs, geometry=geom)
