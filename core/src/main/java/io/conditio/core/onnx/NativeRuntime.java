package io.conditio.core.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The ONNX Runtime environment, loaded once per process, without the empty {@code onnxruntime-java*} folder ONNX
 * Runtime 1.29 leaves in {@code java.io.tmpdir}. The native libraries are loaded from the {@link
 * NativeLibraryCache} (unpacked there by the first process) unless {@code onnxruntime.native.path} is set.
 *
 * <p>ONNX Runtime makes a new temporary folder in every process (and, without the cache, unpacks its native
 * libraries into it), loads them and marks the files and the
 * folder for deletion at exit; the JVM deletes those in reverse order, so the folder is tried first, while it still
 * holds the libraries, and stays behind, empty, after every process. Here a shutdown hook (application hooks run
 * before the JVM's delete-on-exit list) deletes the files in that folder and then the folder. The folder is kept
 * while the process runs, since ONNX Runtime unpacks provider libraries (CUDA) into it when they are first asked for.
 * A process killed without its shutdown hooks still leaves it, as ONNX Runtime alone does. The same hook deletes the
 * telemetry files ONNX Runtime wrote into {@code $TMPDIR} for this process, and telemetry is switched off once the
 * environment exists.
 */
public final class NativeRuntime {
    private static volatile OrtEnvironment environment;

    private NativeRuntime() {
    }

    /** @return the process's ONNX Runtime environment, loading the native libraries on the first call */
    public static OrtEnvironment environment() {
        OrtEnvironment env = environment;
        if (env == null) {
            synchronized (NativeRuntime.class) {
                env = environment;
                if (env == null) {
                    List<Path> telemetry = telemetryFiles();
                    List<Path> existed = telemetry.stream().filter(Files::exists).toList();
                    NativeLibraryCache.install(io.conditio.core.CacheFolder.root());
                    env = OrtEnvironment.getEnvironment(logLevel());
                    disableTelemetry(env);
                    Path dir = unpackFolder();
                    List<Path> ours = telemetry.stream().filter(f -> !existed.contains(f)).toList();
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                        if (dir != null) {
                            removeUnpackFolder(dir);
                        }
                        for (Path f : ours) {
                            try {
                                Files.deleteIfExists(f);
                            } catch (IOException | RuntimeException e) {
                                // left as ONNX Runtime left it
                            }
                        }
                    }, "conditio-onnxruntime-cleanup"));
                    environment = env;
                }
            }
        }
        return env;
    }

    /**
     * The files ONNX Runtime 1.29's telemetry writes into {@code $TMPDIR} when the environment is created, unless
     * {@code ORT_DISABLE_TELEMETRY} is set (the conditio launcher sets it): the session file {@code .ses} and this
     * process's {@code mat-debug-PID.log}. Those this process created are deleted at exit.
     */
    private static List<Path> telemetryFiles() {
        String tmp = System.getenv("TMPDIR");
        Path dir = Path.of(tmp == null || tmp.isBlank() ? "/tmp" : tmp);
        return List.of(dir.resolve(".ses"), dir.resolve("mat-debug-" + ProcessHandle.current().pid() + ".log"));
    }

    /** Stops ONNX Runtime's telemetry for the rest of the process, where this version lets Java do so. */
    private static void disableTelemetry(OrtEnvironment env) {
        try {
            env.setTelemetry(false);
        } catch (ai.onnxruntime.OrtException | RuntimeException e) {
            // not supported here: ORT_DISABLE_TELEMETRY in the environment is the way
        }
    }

    /** System property: ONNX Runtime's own log level (verbose, info, warning, error, fatal; default fatal). */
    public static final String LOG_LEVEL_PROPERTY = "conditio.onnx.logLevel";

    /**
     * ONNX Runtime logs to the process's stderr itself, past any Java logging; its errors reach the caller as
     * exceptions anyway, so by default only fatal ones are printed.
     */
    private static OrtLoggingLevel logLevel() {
        String v = System.getProperty(LOG_LEVEL_PROPERTY, "fatal").trim().toUpperCase(java.util.Locale.ROOT);
        try {
            return OrtLoggingLevel.valueOf("ORT_LOGGING_LEVEL_" + v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("system property " + LOG_LEVEL_PROPERTY + " is '" + v.toLowerCase(
                    java.util.Locale.ROOT) + "'; expected verbose, info, warning, error or fatal", e);
        }
    }

    /** Deletes the files in the folder ONNX Runtime unpacked its libraries into, then the folder. */
    static void removeUnpackFolder(Path dir) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                if (Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.deleteIfExists(f);
                }
            }
        } catch (IOException | RuntimeException e) {
            return; // left to ONNX Runtime's delete-on-exit
        }
        try {
            Files.deleteIfExists(dir);
        } catch (IOException | RuntimeException e) {
            // not empty or not ours to delete: left as it is
        }
    }

    /**
     * @return {@code ai.onnxruntime.OnnxRuntime.tempDirectory} when it is an {@code onnxruntime-java*} folder, or
     *     null (another ONNX Runtime version without that field, Android)
     */
    private static Path unpackFolder() {
        try {
            Class<?> ort = Class.forName("ai.onnxruntime.OnnxRuntime", false, OrtEnvironment.class.getClassLoader());
            Field f = ort.getDeclaredField("tempDirectory");
            f.setAccessible(true);
            return f.get(null) instanceof Path p && Files.isDirectory(p)
                    && p.getFileName().toString().startsWith("onnxruntime-java") ? p : null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
