package io.conditio.core.onnx;

import io.conditio.api.InvalidRequestException;
import java.util.Locale;

/**
 * Where a session runs: the CPU, or a CUDA device by its index.
 *
 * @param kind  the execution provider
 * @param index the CUDA device index; 0 for the CPU
 */
public record Device(Kind kind, int index) {
    /** The execution providers Conditio chooses between. */
    public enum Kind {
        /** ONNX Runtime's CPU provider, present in every artifact. */
        CPU,
        /** The CUDA provider, present in {@code com.microsoft.onnxruntime:onnxruntime_gpu}. */
        CUDA
    }

    /** The CPU. */
    public static final Device CPU = new Device(Kind.CPU, 0);

    /** Checks the index. */
    public Device {
        if (kind == null) {
            throw new IllegalArgumentException("device kind must not be null");
        }
        if (index < 0 || (kind == Kind.CPU && index != 0)) {
            throw new IllegalArgumentException("device " + kind + " index " + index
                    + ": expected 0 for the CPU and a non-negative CUDA device index");
        }
    }

    /**
     * @param index the CUDA device index
     * @return that CUDA device
     */
    public static Device cuda(int index) {
        return new Device(Kind.CUDA, index);
    }

    /**
     * Parses {@code cpu}, {@code cuda} (device 0) or {@code cuda:N}.
     *
     * @param text the device, case-insensitive
     * @return the device
     * @throws InvalidRequestException saying what was expected
     */
    public static Device parse(String text) {
        String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        if (t.equals("cpu")) {
            return CPU;
        }
        if (t.equals("cuda")) {
            return cuda(0);
        }
        if (t.startsWith("cuda:")) {
            try {
                int n = Integer.parseInt(t.substring(5));
                if (n >= 0) {
                    return cuda(n);
                }
            } catch (NumberFormatException e) {
                // fall through to the message below
            }
        }
        throw new InvalidRequestException("device '" + text + "': expected cpu, cuda or cuda:N (N a device index,"
                + " e.g. cuda:1)");
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
