"""Small LDM-style models in plain torch: KL VAE (8x, 4 latent channels), CLIP-style text encoder, conditional UNet
with cross-attention + class embedding (optionally taking ControlNet residuals), and a ControlNet.
Only export-friendly ops: conv, GroupNorm, LayerNorm, SiLU, matmul/softmax attention, nearest upsampling."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def gn(c):
    return nn.GroupNorm(8 if c % 8 == 0 else 4, c, eps=1e-5)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb=None):
        super().__init__()
        self.norm1 = gn(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb, cout) if temb else None
        self.norm2 = gn(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb=None):
        h = self.conv1(F.silu(self.norm1(x)))
        if self.temb is not None:
            h = h + self.temb(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class Down(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Up(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


def attention(q, k, v, heads, mask=None):
    b, n, c = q.shape
    d = c // heads
    q = q.reshape(b, n, heads, d).transpose(1, 2)
    k = k.reshape(b, k.shape[1], heads, d).transpose(1, 2)
    v = v.reshape(b, v.shape[1], heads, d).transpose(1, 2)
    w = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d))
    if mask is not None:
        w = w + mask
    w = torch.softmax(w, dim=-1)
    return torch.matmul(w, v).transpose(1, 2).reshape(b, n, c)


class VAEAttn(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm = gn(c)
        self.qkv = nn.Conv2d(c, 3 * c, 1)
        self.out = nn.Conv2d(c, c, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3 * c, h * w).transpose(1, 2).chunk(3, dim=-1)
        o = attention(q, k, v, 1).transpose(1, 2).reshape(b, c, h, w)
        return x + self.out(o)


# --------------------------------------------------------------------------------------------------------------- VAE
class Encoder(nn.Module):
    def __init__(self, ch=(16, 32, 64, 64), zc=4):
        super().__init__()
        self.conv_in = nn.Conv2d(3, ch[0], 3, padding=1)
        blocks = []
        c = ch[0]
        for i, co in enumerate(ch):
            blocks.append(ResBlock(c, co))
            c = co
            if i < len(ch) - 1:
                blocks.append(Down(c))
        self.down = nn.Sequential(*blocks)
        self.mid1, self.attn, self.mid2 = ResBlock(c, c), VAEAttn(c), ResBlock(c, c)
        self.norm = gn(c)
        self.conv_out = nn.Conv2d(c, 2 * zc, 3, padding=1)
        self.quant_conv = nn.Conv2d(2 * zc, 2 * zc, 1)

    def forward(self, x):
        h = self.down(self.conv_in(x))
        h = self.mid2(self.attn(self.mid1(h)))
        return self.quant_conv(self.conv_out(F.silu(self.norm(h))))  # mean || logvar


class Decoder(nn.Module):
    def __init__(self, ch=(16, 32, 64, 64), zc=4):
        super().__init__()
        self.post_quant_conv = nn.Conv2d(zc, zc, 1)
        c = ch[-1]
        self.conv_in = nn.Conv2d(zc, c, 3, padding=1)
        self.mid1, self.attn, self.mid2 = ResBlock(c, c), VAEAttn(c), ResBlock(c, c)
        blocks = []
        for i, co in enumerate(reversed(ch)):
            blocks.append(ResBlock(c, co))
            blocks.append(ResBlock(co, co))
            c = co
            if i < len(ch) - 1:
                blocks.append(Up(c))
        self.up = nn.Sequential(*blocks)
        self.norm = gn(c)
        self.conv_out = nn.Conv2d(c, 3, 3, padding=1)

    def forward(self, z):
        h = self.conv_in(self.post_quant_conv(z))
        h = self.up(self.mid2(self.attn(self.mid1(h))))
        return self.conv_out(F.silu(self.norm(h)))


class VAE(nn.Module):
    def __init__(self, ch=(16, 32, 64, 64), zc=4):
        super().__init__()
        self.ch = ch
        self.encoder = Encoder(ch, zc)
        self.decoder = Decoder(ch, zc)


class VAEEncoderExport(nn.Module):
    def __init__(self, enc):
        super().__init__()
        self.enc = enc

    def forward(self, sample):
        return self.enc(sample)


class VAEDecoderExport(nn.Module):
    def __init__(self, dec):
        super().__init__()
        self.dec = dec

    def forward(self, latent_sample):
        return self.dec(latent_sample)


# ------------------------------------------------------------------------------------------------------ text encoder
class TextLayer(nn.Module):
    """One pre-LN causal transformer layer. A module of its own (not a ModuleDict) so that the ONNX export names its
    nodes by module path (/te/layers.0/qkv/MatMul), which LoRA files are matched against."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.ln1, self.qkv, self.out = nn.LayerNorm(dim), nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.ln2, self.fc1, self.fc2 = nn.LayerNorm(dim), nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)

    def forward(self, x, mask):
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        x = x + self.out(attention(q, k, v, self.heads, mask))
        h = self.fc1(self.ln2(x))
        return x + self.fc2(h * torch.sigmoid(1.702 * h))


class TextEncoder(nn.Module):
    """CLIP text transformer: token + position embedding, pre-LN causal layers (quick_gelu MLP), final LayerNorm;
    pooler_output = final state at the EOS token (the highest id, as in CLIP: argmax of input_ids)."""

    def __init__(self, vocab_size, dim=64, layers=3, heads=4, max_len=77):
        super().__init__()
        self.heads = heads
        self.tok = nn.Embedding(vocab_size, dim)
        self.pos = nn.Parameter(torch.randn(max_len, dim) * 0.01)
        nn.init.normal_(self.tok.weight, std=0.02)
        self.layers = nn.ModuleList([TextLayer(dim, heads) for _ in range(layers)])
        self.final_ln = nn.LayerNorm(dim)
        mask = torch.full((max_len, max_len), float("-inf")).triu(1)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, input_ids):
        n = input_ids.shape[1]
        x = self.tok(input_ids) + self.pos[:n]
        mask = self.mask[:n, :n]
        for l in self.layers:
            x = l(x, mask)
        x = self.final_ln(x)
        eos = input_ids.float().argmax(dim=-1)  # float: ONNX Runtime's ArgMax has no int64 kernel
        pooled = x[torch.arange(x.shape[0]), eos]
        return x, pooled


# -------------------------------------------------------------------------------------------------------------- UNet
def timestep_embedding(t, dim):
    """diffusers get_timestep_embedding(flip_sin_to_cos=True, downscale_freq_shift=0)."""
    half = dim // 2
    ex = -math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half
    e = t.float()[:, None] * torch.exp(ex)[None, :]
    return torch.cat([torch.cos(e), torch.sin(e)], dim=-1)


class Transformer(nn.Module):
    """Spatial transformer: GN, proj_in, [self-attn, cross-attn, GEGLU FF] with pre-LayerNorms, proj_out, residual."""

    def __init__(self, c, ctx, heads=4, ff=2):
        super().__init__()
        self.heads = heads
        self.norm = gn(c)
        self.proj_in = nn.Conv2d(c, c, 1)
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(c), nn.LayerNorm(c), nn.LayerNorm(c)
        self.qkv = nn.Linear(c, 3 * c, bias=False)
        self.o1 = nn.Linear(c, c)
        self.q2 = nn.Linear(c, c, bias=False)
        self.kv2 = nn.Linear(ctx, 2 * c, bias=False)
        self.o2 = nn.Linear(c, c)
        self.ff1 = nn.Linear(c, ff * c * 2)
        self.ff2 = nn.Linear(ff * c, c)
        self.proj_out = nn.Conv2d(c, c, 1)

    def forward(self, x, ctx):
        b, c, h, w = x.shape
        r = x
        x = self.proj_in(self.norm(x)).reshape(b, c, h * w).transpose(1, 2)
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        x = x + self.o1(attention(q, k, v, self.heads))
        k, v = self.kv2(ctx).chunk(2, dim=-1)
        x = x + self.o2(attention(self.q2(self.ln2(x)), k, v, self.heads))
        a, g = self.ff1(self.ln3(x)).chunk(2, dim=-1)
        x = x + self.ff2(a * F.gelu(g))
        x = x.transpose(1, 2).reshape(b, c, h, w)
        return r + self.proj_out(x)


class Layer(nn.Module):
    def __init__(self, cin, cout, temb, ctx, attn=True):
        super().__init__()
        self.res = ResBlock(cin, cout, temb)
        self.attn = Transformer(cout, ctx) if attn else None

    def forward(self, x, temb, ctx):
        x = self.res(x, temb)
        return self.attn(x, ctx) if self.attn is not None else x


class UNet(nn.Module):
    """Two resolutions (8x8 -> 4x4), layers_per_block down, layers+1 up, mid block at 4x4.
    Down residuals (ControlNet order, like diffusers): conv_in, each down layer, each downsampler."""

    def __init__(self, in_ch=4, out_ch=4, ch=(64, 128), layers=1, ctx=64, n_class=5, attn=(False, True), ctx_tokens=24):
        super().__init__()
        self.cfg = dict(in_ch=in_ch, out_ch=out_ch, ch=list(ch), layers=layers, ctx=ctx, n_class=n_class)
        self.ctx_tokens = ctx_tokens  # cross-attention reads the first ctx_tokens of the 77 (captions are shorter)
        self.ch = ch
        td = ch[0] * 4
        self.t_dim = ch[0]
        self.time_mlp = nn.Sequential(nn.Linear(ch[0], td), nn.SiLU(), nn.Linear(td, td))
        self.class_emb = nn.Embedding(n_class, td)
        self.conv_in = nn.Conv2d(in_ch, ch[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        skip_ch = [ch[0]]
        c = ch[0]
        for i, co in enumerate(ch):
            blk = nn.ModuleList()
            for _ in range(layers):
                blk.append(Layer(c, co, td, ctx, attn[i]))
                c = co
                skip_ch.append(c)
            self.down.append(blk)
            if i < len(ch) - 1:
                self.downsample.append(Down(c))
                skip_ch.append(c)
        self.skip_ch = list(skip_ch)
        self.mid1 = ResBlock(c, c, td)
        self.mid_attn = Transformer(c, ctx)
        self.mid2 = ResBlock(c, c, td)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for i, co in enumerate(reversed(ch)):
            blk = nn.ModuleList()
            for _ in range(layers + 1):
                blk.append(Layer(c + skip_ch.pop(), co, td, ctx, attn[len(ch) - 1 - i]))
                c = co
            self.up.append(blk)
            if i < len(ch) - 1:
                self.upsample.append(Up(c))
        self.norm_out = gn(c)
        self.conv_out = nn.Conv2d(c, out_ch, 3, padding=1)

    def embed(self, t, class_labels):
        return self.time_mlp(timestep_embedding(t, self.t_dim)) + self.class_emb(class_labels)

    def forward(self, x, t, ctx, class_labels, down_res=None, mid_res=None, intra_res=None):
        """down_res/mid_res: ControlNet residuals (added to the skip connections and after the mid block).
        intra_res: T2I-Adapter features (diffusers' down_intrablock_additional_residuals), one per down block: in a
        block with attention added after its last layer and before the downsampler (so the skip sees it too); in a
        block without attention added after the block, downsampler included, and, as diffusers adds in place, to that
        block's last skip as well. A feature left over after the down blocks is added after the mid block when the
        shapes match (SDXL)."""
        ctx = ctx[:, :self.ctx_tokens]
        temb = self.embed(t, class_labels)
        h = self.conv_in(x)
        skips = [h]
        intra = list(intra_res) if intra_res is not None else []
        for i, blk in enumerate(self.down):
            has_attn = blk[-1].attn is not None
            for j, l in enumerate(blk):
                h = l(h, temb, ctx)
                if has_attn and j == len(blk) - 1 and intra:
                    h = h + intra.pop(0)
                skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)
                skips.append(h)
            if not has_attn and intra:
                h = h + intra.pop(0)
                skips[-1] = h
        if down_res is not None:
            skips = [s + r for s, r in zip(skips, down_res)]
        h = self.mid2(self.mid_attn(self.mid1(h, temb), ctx), temb)
        if intra and intra[0].shape == h.shape:
            h = h + intra.pop(0)
        if mid_res is not None:
            h = h + mid_res
        for i, blk in enumerate(self.up):
            for l in blk:
                h = l(torch.cat([h, skips.pop()], dim=1), temb, ctx)
            if i < len(self.upsample):
                h = self.upsample[i](h)
        return self.conv_out(F.silu(self.norm_out(h)))


class ControlNet(nn.Module):
    """Copy of the UNet's encoder half (conv_in, down blocks, mid) + a conditioning-image embedding (64x64 -> 8x8)
    + zero 1x1 convolutions per residual. The class embedding is fixed to the null class."""

    def __init__(self, unet: UNet, null_class=4):
        super().__init__()
        import copy
        self.null_class = null_class
        self.ctx_tokens = unet.ctx_tokens
        self.t_dim = unet.t_dim
        self.time_mlp = copy.deepcopy(unet.time_mlp)
        self.class_emb = copy.deepcopy(unet.class_emb)
        self.conv_in = copy.deepcopy(unet.conv_in)
        self.down = copy.deepcopy(unet.down)
        self.downsample = copy.deepcopy(unet.downsample)
        self.mid1, self.mid_attn, self.mid2 = (copy.deepcopy(unet.mid1), copy.deepcopy(unet.mid_attn),
                                               copy.deepcopy(unet.mid2))
        c0 = unet.ch[0]
        self.cond_embed = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.SiLU(),
            nn.Conv2d(16, 16, 3, padding=1, stride=2), nn.SiLU(),   # 32
            nn.Conv2d(16, 32, 3, padding=1, stride=2), nn.SiLU(),   # 16
            nn.Conv2d(32, 64, 3, padding=1, stride=2), nn.SiLU(),   # 8
            nn.Conv2d(64, c0, 3, padding=1))
        nn.init.zeros_(self.cond_embed[-1].weight)
        nn.init.zeros_(self.cond_embed[-1].bias)
        self.zero_convs = nn.ModuleList([nn.Conv2d(c, c, 1) for c in unet.skip_ch])
        self.mid_zero = nn.Conv2d(unet.ch[-1], unet.ch[-1], 1)
        for m in list(self.zero_convs) + [self.mid_zero]:
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x, t, ctx, cond, scale):
        ctx = ctx[:, :self.ctx_tokens]
        temb = self.time_mlp(timestep_embedding(t, self.t_dim)) + self.class_emb.weight[self.null_class]
        h = self.conv_in(x) + self.cond_embed(cond)
        skips = [h]
        for i, blk in enumerate(self.down):
            for l in blk:
                h = l(h, temb, ctx)
                skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)
                skips.append(h)
        h = self.mid2(self.mid_attn(self.mid1(h, temb), ctx), temb)
        outs = [z(s) * scale for z, s in zip(self.zero_convs, skips)]
        return outs, self.mid_zero(h) * scale


class AdapterResnet(nn.Module):
    """diffusers AdapterResnetBlock: 3x3 conv, ReLU, 1x1 conv, plus the input."""

    def __init__(self, c):
        super().__init__()
        self.block1 = nn.Conv2d(c, c, 3, padding=1)
        self.block2 = nn.Conv2d(c, c, 1)

    def forward(self, x):
        return x + self.block2(F.relu(self.block1(x)))


class AdapterBlock(nn.Module):
    """diffusers AdapterBlock: optional 2x2 average pooling, a 1x1 conv when the channels change, resnets."""

    def __init__(self, cin, cout, res_blocks, down):
        super().__init__()
        self.down = down
        self.in_conv = nn.Conv2d(cin, cout, 1) if cin != cout else None
        self.resnets = nn.Sequential(*[AdapterResnet(cout) for _ in range(res_blocks)])

    def forward(self, x):
        if self.down:
            x = F.avg_pool2d(x, 2, 2, ceil_mode=True)
        if self.in_conv is not None:
            x = self.in_conv(x)
        return self.resnets(x)


class T2IAdapter(nn.Module):
    """diffusers T2IAdapter ("full_adapter"): PixelUnshuffle(downscale) of the condition image [B, in_ch, H, W] in
    [0, 1], a 3x3 conv, then one AdapterBlock per UNet down block, each giving the feature map that block takes
    (its channels, at the resolution where the UNet adds it). `down` says which blocks halve the resolution: for
    SD 1.5 (False, True, True, True); for the shapes UNet (True, False), because its first down block has no
    attention, so the feature is added after its downsampler, at 4x4, as diffusers does."""

    def __init__(self, in_ch=1, channels=(32, 64), res_blocks=2, down=(True, False), downscale=8):
        super().__init__()
        self.cfg = dict(in_channels=in_ch, channels=list(channels), num_res_blocks=res_blocks,
                        downscale_factor=downscale, down=list(down))
        self.downscale = downscale
        self.conv_in = nn.Conv2d(in_ch * downscale * downscale, channels[0], 3, padding=1)
        blocks, c = [], channels[0]
        for co, d in zip(channels, down):
            blocks.append(AdapterBlock(c, co, res_blocks, d))
            c = co
        self.body = nn.ModuleList(blocks)

    def forward(self, x):
        h = self.conv_in(F.pixel_unshuffle(x, self.downscale))
        feats = []
        for b in self.body:
            h = b(h)
            feats.append(h)
        return feats


def count(m):
    return sum(p.numel() for p in m.parameters())
