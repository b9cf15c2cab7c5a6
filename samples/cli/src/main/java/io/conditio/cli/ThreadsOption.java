package io.conditio.cli;

import io.conditio.api.InvalidRequestException;
import io.conditio.core.onnx.OnnxModel;
import picocli.CommandLine.Option;

/** {@code --threads N}: ONNX Runtime intra-op threads of every session the command opens. */
final class ThreadsOption {
    @Option(names = "--threads", paramLabel = "N",
            description = "ONNX Runtime intra-op threads per model session (default: ONNX Runtime's, one per core;"
                    + " or the system property " + OnnxModel.INTRA_OP_THREADS_PROPERTY + ").")
    Integer threads;

    /** Sets the thread count for the sessions opened until the scope closes, then restores the previous setting. */
    Scope apply() {
        if (threads == null) {
            return () -> { };
        }
        if (threads < 1) {
            throw new InvalidRequestException("--threads " + threads + ": expected a positive number of threads");
        }
        String before = System.getProperty(OnnxModel.INTRA_OP_THREADS_PROPERTY);
        System.setProperty(OnnxModel.INTRA_OP_THREADS_PROPERTY, Integer.toString(threads));
        return () -> {
            if (before == null) {
                System.clearProperty(OnnxModel.INTRA_OP_THREADS_PROPERTY);
            } else {
                System.setProperty(OnnxModel.INTRA_OP_THREADS_PROPERTY, before);
            }
        };
    }

    /** Restores the previous setting. */
    interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
