package io.conditio.cli;

import io.conditio.api.ConditioException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;

/**
 * The {@code conditio} command. Flags of {@code generate} and {@code plugins} are a contract scripts rely on.
 * Errors are one line on stderr and a non-zero exit (2 for usage errors, 1 for failures); set
 * {@code CONDITIO_DEBUG=1} to get stack traces.
 */
@Command(name = "conditio", mixinStandardHelpOptions = true, versionProvider = ConditioCli.Version.class,
        description = "Latent-diffusion image generation on the JVM.",
        subcommands = {GenerateCommand.class, RegenerateCommand.class, CompareCommand.class, PluginsCommand.class,
            BenchCommand.class,
            ServeCommand.class, PreprocessCommand.class,
            CommandLine.HelpCommand.class})
public final class ConditioCli implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "Show the libraries' own log (PF4J, ONNX Runtime) on stderr; otherwise it goes to "
                    + "$CONDITIO_LOG, else conditio-USER.log in the temp folder.")
    boolean verbose;

    /** @param args the command line */
    public static void main(String[] args) {
        deleteLauncherArgfile();
        routeLibraryLogging(args);
        System.exit(execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
    }

    /**
     * Runs the command in-process (for embedding and tests).
     *
     * @param out standard output
     * @param err standard error
     * @param args the command line
     * @return the exit code
     */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new ConditioCli());
        cli.setOut(out);
        cli.setErr(err);
        // an argument starting with @ is what it says (a prompt "@home"), never a file to read arguments from
        cli.setExpandAtFiles(false);
        cli.setParameterExceptionHandler((ex, a) -> {
            // one line, as every other error
            err.println("conditio: " + ex.getMessage().replaceFirst("^Error: ", "") + " (see 'conditio "
                    + (ex.getCommandLine().getCommandName().equals("conditio") ? ""
                            : ex.getCommandLine().getCommandName() + " ") + "--help')");
            err.flush();
            return 2;
        });
        cli.setExecutionExceptionHandler((ex, c, parsed) -> {
            err.println("conditio: " + describe(ex));
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

    /** The launcher's @argfile for a long command line (see the conditio script): read by now, so deleted. */
    static void deleteLauncherArgfile() {
        String file = System.getProperty("conditio.argfile");
        if (file != null && Path.of(file).getFileName().toString().startsWith("conditio-args.")) {
            try {
                java.nio.file.Files.deleteIfExists(Path.of(file));
            } catch (java.io.IOException | RuntimeException e) {
                // a temp file left behind is not worth failing the command for
            }
        }
    }

    /**
     * PF4J's and ONNX Runtime's own logging goes to a log file ($CONDITIO_LOG, else conditio.log in the temp folder),
     * not the terminal: the CLI reports problems itself, one line each. With --verbose it goes to stderr. Must run
     * before the first logger is created.
     */
    static void routeLibraryLogging(String[] args) {
        boolean verbose = java.util.Arrays.asList(args).contains("--verbose");
        if (verbose) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "info");
            System.setProperty("conditio.onnx.logLevel", "warning");
            return;
        }
        String file = System.getenv("CONDITIO_LOG");
        if (file == null || file.isBlank()) {
            file = Path.of(System.getProperty("java.io.tmpdir"), "conditio-" + System.getProperty("user.name", "user")
                    + ".log").toString();
        }
        System.setProperty("org.slf4j.simpleLogger.logFile", file);
    }

    private static String describe(Throwable ex) {
        if (ex instanceof ConditioException || ex instanceof UncheckedIOException
                || ex instanceof IllegalArgumentException) {
            return ex.getMessage();
        }
        return ex.getClass().getSimpleName() + ": " + ex.getMessage();
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Prints each line on the command's standard error as {@code conditio: warning: LINE}. */
    static void warn(CommandLine.Model.CommandSpec command, java.util.List<String> lines) {
        lines.forEach(line -> command.commandLine().getErr().println("conditio: warning: " + line));
    }

    /**
     * The plugin directory of a command that declares its own {@code --plugins}: the flag, else
     * {@code CONDITIO_PLUGINS}, else as {@link PluginDirectoryOption#directory()}.
     */
    static Path pluginDirectory(Path flag) {
        if (flag != null) {
            return flag;
        }
        String env = System.getenv("CONDITIO_PLUGINS");
        return PluginDirectoryOption.orBesideLauncher(env == null ? null : Path.of(env), Path.of("plugins"));
    }

    /** How the help of a {@code --model} flag names {@link #modelDirectory}'s default. */
    static final String MODEL_DEFAULT = "default: $CONDITIO_MODEL, else the shipped shapes model";

    /**
     * The model folder: the flag, else {@code CONDITIO_MODEL}, else {@code models/shapes} beside the launcher (the
     * build copies the shipped model there), else {@code ./models/shapes}.
     */
    static Path modelDirectory(Path flag) {
        if (flag != null) {
            return flag;
        }
        String env = System.getenv("CONDITIO_MODEL");
        return PluginDirectoryOption.orBesideLauncher(env == null ? null : Path.of(env), Path.of("models", "shapes"));
    }

    /** Reads the version from the jar. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = ConditioCli.class.getResourceAsStream("/conditio-cli.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"conditio " + p.getProperty("version", "?") + " (SPI "
                    + io.conditio.api.SpiVersion.current() + ")"};
        }
    }
}
