package io.conditio.spark;

import io.conditio.api.ConditioException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code conditio-spark}: the batch job's command line, for the launcher and for {@code spark-submit}. Prints one
 * progress line per finished partition and a summary; exit 0 when every request is done, 1 when some failed (they are
 * in the manifest), 2 for bad flags.
 */
@Command(name = "conditio-spark", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Generate a batch of recipe requests on Apache Spark: PNGs (or one Parquet table) and a "
                + "manifest; a rerun with the same --out skips what is done.")
public final class ConditioSpark implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master (local[2], spark://host:7077, yarn, k8s://...); omit under spark-submit.")
    String master;

    @Option(names = "--requests", paramLabel = "FILE.jsonl",
            description = "One recipe JSON object per line; relative paths in it are resolved against its folder.")
    Path requests;

    @Option(names = "--sweep", paramLabel = "FILE.json",
            description = "Lists per key (and per parameter under \"parameters\"), expanded into every request.")
    Path sweep;

    @Option(names = "--out", paramLabel = "DIR", required = true,
            description = "Output folder: <id>.png or images.parquet, and manifest.jsonl.")
    Path out;

    @Option(names = "--format", paramLabel = "png|parquet", defaultValue = "png",
            description = "PNG files or one Parquet table (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--model", paramLabel = "DIR", defaultValue = "${env:CONDITIO_MODEL}",
            description = "Model folder for requests naming none (default: $CONDITIO_MODEL, else the shipped shapes "
                    + "model beside the launcher).")
    Path model;

    @Option(names = "--plugins", paramLabel = "DIR", defaultValue = "${env:CONDITIO_PLUGINS}",
            description = "Plugin folder (default: $CONDITIO_PLUGINS, else plugins/ beside the launcher).")
    Path plugins;

    @Option(names = "--ship", description = "Copy the model and plugin folders to the executors (SparkContext.addFile)"
            + " instead of reading them from a path every executor sees.")
    boolean ship;

    @Option(names = "--partitions", paramLabel = "N",
            description = "Number of partitions (default: three per core of the cluster).")
    int partitions;

    /** @param args the command line */
    public static void main(String[] args) {
        System.exit(execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /**
     * Runs the command in this JVM.
     *
     * @param out  standard output
     * @param err  standard error
     * @param args the command line
     * @return the exit code
     */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new ConditioSpark());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((ex, c, parsed) -> {
            err.println("conditio-spark: " + (ex instanceof ConditioException ? ex.getMessage()
                    : GeneratePartition.describe(ex)));
            if (System.getenv("CONDITIO_DEBUG") != null) {
                ex.printStackTrace(err);
            }
            err.flush();
            return 1;
        });
        int code = cli.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        SparkBatch.Format f = switch (format.toLowerCase(Locale.ROOT)) {
            case "png" -> SparkBatch.Format.PNG;
            case "parquet" -> SparkBatch.Format.PARQUET;
            default -> throw new CommandLine.ParameterException(spec.commandLine(),
                    "--format " + format + ": expected png or parquet");
        };
        if (requests == null && sweep == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give --requests, --sweep or both");
        }
        SparkBatch batch = SparkBatch.builder().requests(requests).sweep(sweep).out(out).format(f)
                .model(defaultDir(model, Path.of("models", "shapes")))
                .plugins(defaultDir(plugins, Path.of("plugins")))
                .ship(ship).partitions(partitions).build();
        SparkSession.Builder b = SparkSession.builder().appName("conditio-spark");
        if (master != null) {
            b.master(master);
        }
        SparkSession spark = b.getOrCreate();
        try {
            AtomicInteger tasks = new AtomicInteger();
            long t0 = System.nanoTime();
            spark.sparkContext().addSparkListener(new SparkListener() {
                @Override
                public void onTaskEnd(SparkListenerTaskEnd end) {
                    if (end.taskInfo().successful()) {
                        stdout.printf(Locale.ROOT, "conditio-spark: partition %d done on executor %s (%d so far, "
                                + "%.1f s)%n", end.taskInfo().index(), end.taskInfo().executorId(),
                                tasks.incrementAndGet(), (System.nanoTime() - t0) / 1e9);
                    }
                }
            });
            BatchReport r = batch.run(spark);
            stdout.printf(Locale.ROOT, "conditio-spark: %d requests: %d generated, %d skipped (done before), %d "
                    + "failed; %.1f s, %.2f images/s; manifest %s%n", r.requests(), r.generated(), r.skipped(),
                    r.failed(), r.seconds(), r.imagesPerSecond(), r.manifest());
            return r.failed() == 0 ? 0 : 1;
        } finally {
            spark.stop();
        }
    }

    private static Path defaultDir(Path given, Path besideLauncher) {
        if (given != null && !given.toString().isBlank()) {
            return given;
        }
        String home = System.getProperty("conditio.home");
        if (home != null && Files.isDirectory(Path.of(home).resolve(besideLauncher))) {
            return Path.of(home).resolve(besideLauncher);
        }
        return besideLauncher;
    }
}
