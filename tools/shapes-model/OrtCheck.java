import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs the exported ONNX models with ONNX Runtime (Java, the runtime Conditio uses) on the inputs export.py saved
 * and compares with the torch outputs saved beside them. Manifest lines: "model PATH", "in NAME f32|i64 FILE DIM...",
 * "out NAME FILE". Usage: java -cp onnxruntime-1.29.0.jar tools/shapes-model/OrtCheck.java WORK/ortcheck/manifest.txt
 */
public class OrtCheck {
    public static void main(String[] args) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        List<String[]> block = new ArrayList<>();
        boolean ok = true;
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            String[] f = line.trim().split(" ");
            if (f[0].equals("model") && !block.isEmpty()) {
                ok &= run(env, block);
                block.clear();
            }
            if (!line.isBlank()) block.add(f);
        }
        if (!block.isEmpty()) ok &= run(env, block);
        System.out.println(ok ? "ALL OK" : "MISMATCH");
        System.exit(ok ? 0 : 1);
    }

    static ByteBuffer read(String file) throws Exception {
        return ByteBuffer.wrap(Files.readAllBytes(Path.of(file))).order(ByteOrder.LITTLE_ENDIAN);
    }

    static boolean run(OrtEnvironment env, List<String[]> block) throws Exception {
        String model = block.get(0)[1];
        Map<String, OnnxTensor> in = new LinkedHashMap<>();
        Map<String, String> outs = new LinkedHashMap<>();
        for (String[] f : block.subList(1, block.size())) {
            if (f[0].equals("in")) {
                long[] shape = new long[f.length - 4];
                for (int i = 4; i < f.length; i++) shape[i - 4] = Long.parseLong(f[i]);
                ByteBuffer b = read(f[3]);
                if (f[2].equals("i64")) {
                    LongBuffer lb = b.asLongBuffer();
                    in.put(f[1], OnnxTensor.createTensor(env, lb, shape));
                } else {
                    FloatBuffer fb = b.asFloatBuffer();
                    in.put(f[1], OnnxTensor.createTensor(env, fb, shape));
                }
            } else if (f[0].equals("out")) {
                outs.put(f[1], f[2]);
            }
        }
        boolean ok = true;
        try (OrtSession s = env.createSession(model, new OrtSession.SessionOptions());
             OrtSession.Result r = s.run(in)) {
            StringBuilder sb = new StringBuilder(model);
            for (Map.Entry<String, String> e : outs.entrySet()) {
                OnnxValue v = r.get(e.getKey()).orElseThrow();
                FloatBuffer got = ((OnnxTensor) v).getFloatBuffer();
                FloatBuffer want = read(e.getValue()).asFloatBuffer();
                double max = 0, ref = 0;
                for (int i = 0; i < want.limit(); i++) {
                    max = Math.max(max, Math.abs(got.get(i) - want.get(i)));
                    ref = Math.max(ref, Math.abs(want.get(i)));
                }
                boolean good = got.limit() == want.limit() && max <= 1e-3 * Math.max(1, ref);
                ok &= good;
                sb.append(String.format("%n  %s: max|ort-torch| %.2e (max|torch| %.2f) %s", e.getKey(), max, ref,
                        good ? "ok" : "MISMATCH"));
            }
            System.out.println(sb);
        }
        return ok;
    }
}
