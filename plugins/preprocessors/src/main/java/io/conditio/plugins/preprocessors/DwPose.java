package io.conditio.plugins.preprocessors;

import io.conditio.api.FloatTensor;
import io.conditio.api.InvalidRequestException;
import io.conditio.api.Model;
import io.conditio.api.PreprocessorContext;
import io.conditio.api.RgbImage;
import io.conditio.api.Tensor;
import io.conditio.api.TensorSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/**
 * {@code dwpose} (also {@code openpose}): whole-body pose with the published two-stage DWPose ONNX pair the user
 * supplies ({@code --preprocess-model yolox_l.onnx --preprocess-model dw-ll_ucoco_384.onnx}, in either order; they
 * are told apart by their outputs), drawn as the OpenPose skeleton (body, hands, face) the pose ControlNets were
 * trained on ({@link PoseDrawing}). The steps are DWPose's ONNX annotator's:
 * <ol>
 *   <li><b>people</b> (YOLOX, one input {@code [1, 3, 640, 640]}, one output {@code [1, anchors, 5 + classes]}): the
 *       image in 8-bit RGB, resized bilinearly by {@code r = min(640 / H, 640 / W)} into the top-left corner of a
 *       canvas of 114s; boxes decoded on the stride 8/16/32 grids (centre {@code (raw + cell) × stride}, size
 *       {@code exp(raw) × stride}), divided by {@code r}; person score = objectness × class-0 score; boxes above 0.1
 *       go through NMS (IoU 0.45, areas counted {@code +1} px as there), and those above 0.3 are the people. With no
 *       detector given, or no person found, the whole image is one box.</li>
 *   <li><b>key points</b> (RTMPose whole-body, input {@code [1, 3, 384, 288]}, outputs {@code simcc_x [1, 133, 576]},
 *       {@code simcc_y [1, 133, 768]}): per box, centre and size × 1.25, widened or heightened to the input's aspect
 *       ratio; the crop is the affine warp of that square onto the input (bilinear, black outside the image),
 *       normalised with ImageNet mean (123.675, 116.28, 103.53) and std (58.395, 57.12, 57.375); each key point is
 *       the argmax of its SimCC x and y vectors divided by the split ratio 2, its score the smaller of the two
 *       maxima (no point when ≤ 0), mapped back through the crop.</li>
 *   <li><b>OpenPose</b>: the 133 COCO-WholeBody points become the 18 body points (neck = mean of the shoulders),
 *       two hands and the face ({@link Skeleton#fromWholeBody}), drawn on black at the image size.</li>
 * </ol>
 */
@Extension
public class DwPose extends NamedPreprocessor {
    static final int DETECTOR_SIZE = 640;
    static final int POSE_WIDTH = 288;
    static final int POSE_HEIGHT = 384;
    static final float PAD = 114f;
    static final float CANDIDATE_SCORE = 0.1f;
    static final float NMS_IOU = 0.45f;
    static final float PERSON_SCORE = 0.3f;
    static final double BOX_PADDING = 1.25;
    static final double SIMCC_SPLIT = 2.0;
    private static final double[] MEAN = {123.675, 116.28, 103.53};
    private static final double[] STD = {58.395, 57.12, 57.375};
    private static final int[] STRIDES = {8, 16, 32};

    public DwPose() {
        this("dwpose", "OpenPose skeleton (body, hands, face) from a photo, with the DWPose ONNX pair "
                + "(--preprocess-model yolox_l.onnx --preprocess-model dw-ll_ucoco_384.onnx)");
    }

    /**
     * @param name        the name users ask for
     * @param description one line saying what it makes from what
     */
    DwPose(String name, String description) {
        super(name, description);
    }

    @Override
    public RgbImage process(RgbImage image, PreprocessorContext context) {
        List<Skeleton> people = new ArrayList<>();
        for (Person p : estimate(image, context)) {
            people.add(Skeleton.fromWholeBody(p.x(), p.y(), p.score()));
        }
        return PoseDrawing.draw(image.width(), image.height(), people);
    }

    /** A person box in image pixels, {@code x0, y0, x1, y1}. */
    record Box(float x0, float y0, float x1, float y1, float score) {
    }

    /** One person's 133 key points in image pixels, with scores. */
    record Person(Box box, float[] x, float[] y, float[] score) {
    }

    /** Runs both stages. */
    List<Person> estimate(RgbImage image, PreprocessorContext context) {
        Model detector = null;
        Model pose = null;
        if (context.models().isEmpty() || context.models().size() > 2) {
            throw new InvalidRequestException("--control-preprocess " + name() + " needs the DWPose model files: "
                    + "--preprocess-model yolox_l.onnx (person detector, optional) and --preprocess-model "
                    + "dw-ll_ucoco_384.onnx (whole-body key points); got " + context.models().size() + " files");
        }
        for (Path file : context.models()) {
            Model m = context.loadModel(file);
            if (isPoseModel(m)) {
                if (pose != null) {
                    throw new InvalidRequestException("--control-preprocess " + name() + ": both " + pose.path()
                            + " and " + m.path() + " are key-point models; give one detector and one key-point model");
                }
                pose = m;
            } else if (m.outputs().size() == 1 && m.inputs().size() == 1) {
                if (detector != null) {
                    throw new InvalidRequestException("--control-preprocess " + name() + ": both " + detector.path()
                            + " and " + m.path() + " look like person detectors (one output); give one detector and "
                            + "one key-point model (outputs simcc_x, simcc_y)");
                }
                detector = m;
            } else {
                throw new InvalidRequestException("--control-preprocess " + name() + ": " + m.path() + " has inputs "
                        + m.inputs().keySet() + " and outputs " + m.outputs().keySet() + "; expected a YOLOX person "
                        + "detector (one image input, one output [1, anchors, 5 + classes]) or an RTMPose whole-body "
                        + "model (one image input, outputs simcc_x and simcc_y)");
            }
        }
        if (pose == null) {
            throw new InvalidRequestException("--control-preprocess " + name() + " needs the whole-body key-point "
                    + "model (dw-ll_ucoco_384.onnx, outputs simcc_x and simcc_y) among its --preprocess-model files");
        }
        List<Box> boxes = detector == null ? List.of() : detect(detector, image);
        if (boxes.isEmpty()) {
            boxes = List.of(new Box(0, 0, image.width(), image.height(), 0f));
        }
        List<Person> out = new ArrayList<>();
        for (Box b : boxes) {
            out.add(keypoints(pose, image, b));
        }
        return out;
    }

    private static boolean isPoseModel(Model m) {
        return m.inputs().size() == 1 && (m.outputs().containsKey("simcc_x") && m.outputs().containsKey("simcc_y")
                || m.outputs().size() == 2 && m.outputs().values().stream().allMatch(s -> s.rank() == 3));
    }

    private static Map.Entry<String, TensorSpec> imageInput(Model m, String what, int defaultH, int defaultW) {
        Map.Entry<String, TensorSpec> in = m.inputs().entrySet().iterator().next();
        TensorSpec s = in.getValue();
        if (s.rank() != 4 || (s.dim(1) >= 0 && s.dim(1) != 3) || (s.dim(0) > 1)) {
            throw new InvalidRequestException(what + " " + m.path() + " takes " + in.getKey() + " " + s
                    + "; expected [1, 3, " + defaultH + ", " + defaultW + "]");
        }
        return in;
    }

    private static int dimOr(TensorSpec s, int axis, int fallback) {
        return s.dim(axis) > 0 ? (int) s.dim(axis) : fallback;
    }

    /** The image as 8-bit sample values 0..255 (HWC). */
    private static float[] bytes(RgbImage image) {
        float[] px = image.pixels();
        float[] out = new float[px.length];
        for (int i = 0; i < px.length; i++) {
            out[i] = Math.round(Math.max(0f, Math.min(1f, px[i])) * 255f);
        }
        return out;
    }

    /** Stage 1: the person boxes, in image pixels, best first. */
    static List<Box> detect(Model detector, RgbImage image) {
        Map.Entry<String, TensorSpec> in = imageInput(detector, "person detector", DETECTOR_SIZE, DETECTOR_SIZE);
        int ih = dimOr(in.getValue(), 2, DETECTOR_SIZE);
        int iw = dimOr(in.getValue(), 3, DETECTOR_SIZE);
        double r = Math.min((double) ih / image.height(), (double) iw / image.width());
        int rw = Math.max(1, (int) (image.width() * r));
        int rh = Math.max(1, (int) (image.height() * r));
        float[] resized = bytes(image.resizedBilinear(rw, rh));
        float[] nchw = new float[3 * ih * iw];
        Arrays.fill(nchw, PAD);
        for (int y = 0; y < Math.min(rh, ih); y++) {
            for (int x = 0; x < Math.min(rw, iw); x++) {
                for (int c = 0; c < 3; c++) {
                    nchw[(c * ih + y) * iw + x] = resized[(y * rw + x) * 3 + c];
                }
            }
        }
        Map<String, Tensor> out = detector.run(Map.of(in.getKey(), FloatTensor.of(nchw, 1, 3, ih, iw)));
        Tensor t = out.values().iterator().next();
        int anchors = 0;
        for (int s : STRIDES) {
            anchors += (ih / s) * (iw / s);
        }
        int[] shape = t.shape();
        if (!(t instanceof FloatTensor f) || shape.length != 3 || shape[0] != 1 || shape[1] != anchors
                || shape[2] < 6) {
            throw new InvalidRequestException("person detector " + detector.path() + " gave " + t + "; expected "
                    + "float [1, " + anchors + ", 5 + classes] (YOLOX at " + iw + "x" + ih + ", strides 8/16/32)");
        }
        int width = shape[2];
        float[] raw = f.array();
        List<Box> candidates = new ArrayList<>();
        int a = 0;
        for (int s : STRIDES) {
            int hs = ih / s;
            int ws = iw / s;
            for (int gy = 0; gy < hs; gy++) {
                for (int gx = 0; gx < ws; gx++, a++) {
                    int o = a * width;
                    float score = raw[o + 4] * raw[o + 5];
                    if (!(score > CANDIDATE_SCORE)) {
                        continue;
                    }
                    double cx = (raw[o] + gx) * s;
                    double cy = (raw[o + 1] + gy) * s;
                    double w = Math.exp(raw[o + 2]) * s;
                    double h = Math.exp(raw[o + 3]) * s;
                    candidates.add(new Box((float) ((cx - w / 2) / r), (float) ((cy - h / 2) / r),
                            (float) ((cx + w / 2) / r), (float) ((cy + h / 2) / r), score));
                }
            }
        }
        List<Box> people = new ArrayList<>();
        for (Box b : nms(candidates, NMS_IOU)) {
            if (b.score() > PERSON_SCORE) {
                people.add(b);
            }
        }
        return people;
    }

    /** Greedy NMS, best score first; IoU with areas counted {@code (x1 - x0 + 1)(y1 - y0 + 1)} as DWPose does. */
    static List<Box> nms(List<Box> boxes, float iouLimit) {
        List<Box> order = new ArrayList<>(boxes);
        order.sort(Comparator.comparingDouble(Box::score).reversed());
        List<Box> keep = new ArrayList<>();
        boolean[] gone = new boolean[order.size()];
        for (int i = 0; i < order.size(); i++) {
            if (gone[i]) {
                continue;
            }
            Box b = order.get(i);
            keep.add(b);
            for (int j = i + 1; j < order.size(); j++) {
                if (!gone[j] && iou(b, order.get(j)) > iouLimit) {
                    gone[j] = true;
                }
            }
        }
        return keep;
    }

    static double iou(Box a, Box b) {
        double w = Math.max(0, Math.min(a.x1(), b.x1()) - Math.max(a.x0(), b.x0()) + 1);
        double h = Math.max(0, Math.min(a.y1(), b.y1()) - Math.max(a.y0(), b.y0()) + 1);
        double inter = w * h;
        double areaA = (a.x1() - a.x0() + 1.0) * (a.y1() - a.y0() + 1.0);
        double areaB = (b.x1() - b.x0() + 1.0) * (b.y1() - b.y0() + 1.0);
        return inter / (areaA + areaB - inter);
    }

    /** Stage 2: the 133 key points of the person in {@code box}. */
    static Person keypoints(Model pose, RgbImage image, Box box) {
        Map.Entry<String, TensorSpec> in = imageInput(pose, "key-point model", POSE_HEIGHT, POSE_WIDTH);
        int ih = dimOr(in.getValue(), 2, POSE_HEIGHT);
        int iw = dimOr(in.getValue(), 3, POSE_WIDTH);
        double cx = (box.x0() + box.x1()) / 2.0;
        double cy = (box.y0() + box.y1()) / 2.0;
        double sw = (box.x1() - box.x0()) * BOX_PADDING;
        double sh = (box.y1() - box.y0()) * BOX_PADDING;
        double aspect = (double) iw / ih;
        if (sw > sh * aspect) {
            sh = sw / aspect;
        } else {
            sw = sh * aspect;
        }
        float[] crop = warp(bytes(image), image.width(), image.height(), cx, cy, sw / iw, iw, ih);
        Map<String, Tensor> out = pose.run(Map.of(in.getKey(), FloatTensor.of(crop, 1, 3, ih, iw)));
        FloatTensor sx = simcc(pose, out, "simcc_x", 0, 2 * iw);
        FloatTensor sy = simcc(pose, out, "simcc_y", 1, 2 * ih);
        int[] shx = sx.shape();
        int k = shx[1];
        if (k != Skeleton.WHOLE_BODY || sy.shape()[1] != k) {
            throw new InvalidRequestException("key-point model " + pose.path() + " gives " + k + " key points; "
                    + "expected the " + Skeleton.WHOLE_BODY + " of COCO-WholeBody (DWPose's dw-ll_ucoco_384.onnx)");
        }
        float[] x = new float[k];
        float[] y = new float[k];
        float[] score = new float[k];
        int wx = shx[2];
        int wy = sy.shape()[2];
        float[] ax = sx.array();
        float[] ay = sy.array();
        for (int i = 0; i < k; i++) {
            int bx = argmax(ax, i * wx, wx);
            int by = argmax(ay, i * wy, wy);
            float v = Math.min(ax[i * wx + bx], ay[i * wy + by]);
            double lx = v > 0 ? bx / SIMCC_SPLIT : -1 / SIMCC_SPLIT;
            double ly = v > 0 ? by / SIMCC_SPLIT : -1 / SIMCC_SPLIT;
            x[i] = (float) (lx / iw * sw + cx - sw / 2);
            y[i] = (float) (ly / ih * sh + cy - sh / 2);
            score[i] = v;
        }
        return new Person(box, x, y, score);
    }

    private static FloatTensor simcc(Model pose, Map<String, Tensor> out, String name, int index, int length) {
        Tensor t = out.containsKey(name) ? out.get(name) : new ArrayList<>(out.values()).get(index);
        int[] s = t.shape();
        if (!(t instanceof FloatTensor f) || s.length != 3 || s[0] != 1 || s[2] != length) {
            throw new InvalidRequestException("key-point model " + pose.path() + " gave " + name + " " + t
                    + "; expected float [1, 133, " + length + "] (SimCC, split ratio 2)");
        }
        return f;
    }

    private static int argmax(float[] a, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (a[offset + i] > a[offset + best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * The crop: output pixel (u, v) samples the image at {@code ((u - w/2) k + cx, (v - h/2) k + cy)} bilinearly
     * (0 outside), rounded to 8 bits and normalised; NCHW.
     */
    static float[] warp(float[] hwc, int width, int height, double cx, double cy, double k, int w, int h) {
        float[] out = new float[3 * h * w];
        for (int v = 0; v < h; v++) {
            double sy = (v - h / 2.0) * k + cy;
            int y0 = (int) Math.floor(sy);
            double ty = sy - y0;
            for (int u = 0; u < w; u++) {
                double sx = (u - w / 2.0) * k + cx;
                int x0 = (int) Math.floor(sx);
                double tx = sx - x0;
                for (int c = 0; c < 3; c++) {
                    double top = at(hwc, width, height, x0, y0, c) * (1 - tx)
                            + at(hwc, width, height, x0 + 1, y0, c) * tx;
                    double bottom = at(hwc, width, height, x0, y0 + 1, c) * (1 - tx)
                            + at(hwc, width, height, x0 + 1, y0 + 1, c) * tx;
                    double value = Math.rint(top * (1 - ty) + bottom * ty);
                    out[(c * h + v) * w + u] = (float) ((value - MEAN[c]) / STD[c]);
                }
            }
        }
        return out;
    }

    private static double at(float[] hwc, int width, int height, int x, int y, int c) {
        return x < 0 || y < 0 || x >= width || y >= height ? 0 : hwc[(y * width + x) * 3 + c];
    }
}
