package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built launcher maps the build's AppCDS archive ({@code conditio.jsa}, made by a run of the main command during
 * the build) and still works, with nothing more on stdout or stderr, when the archive is missing or does not fit
 * (the launcher folder moved, so the class path differs from the one the archive was made with). Which classes came
 * from the archive is read from the JVM's class-load log. Short commands run with the C1 compiler only, {@code serve}
 * and {@code bench} with both.
 */
class LauncherTest {
    @TempDir
    Path dir;

    private record Run(String out, String err, long fromArchive, long fromJars) {
    }

    private Run generate(Path launcher, String name) throws IOException, InterruptedException {
        Path log = dir.resolve(name + "-classes.log");
        Path png = dir.resolve(name + ".png");
        ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "generate", "--prompt",
                "a red circle at the top left", "--seed", "1", "--quiet", "--out", png.toString())
                .directory(dir.toFile()).redirectOutput(dir.resolve(name + "-out.txt").toFile())
                .redirectError(dir.resolve(name + "-err.txt").toFile());
        pb.environment().put("CONDITIO_JAVA_OPTS", "-Xlog:class+load:file=" + log);
        pb.environment().remove("CONDITIO_DEBUG");
        pb.environment().remove("CONDITIO_MODEL");
        pb.environment().remove("CONDITIO_PLUGINS");
        Process p = pb.start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("%s finished", name).isTrue();
        String out = Files.readString(dir.resolve(name + "-out.txt"));
        String err = Files.readString(dir.resolve(name + "-err.txt"));
        assertThat(p.exitValue()).as(name + ": " + out + err).isZero();
        assertThat(png).isRegularFile();
        List<String> lines = Files.readAllLines(log);
        // the build's archive is a static one, holding the JDK's classes too: count the application's classes in it
        long top = lines.stream().filter(l -> l.contains("source: shared objects file") && !jdkClass(l)).count();
        long jars = lines.stream().filter(l -> l.contains("source: file:")).count();
        return new Run(out, err, top, jars);
    }

    /** @return whether a class-load log line ("[0.023s] java.lang.Object source: ...") names a JDK class */
    private static boolean jdkClass(String line) {
        String name = line.substring(line.indexOf(' ') + 1);
        return List.of("java.", "javax.", "jdk.", "sun.", "com.sun.").stream().anyMatch(name::startsWith);
    }

    /** A copy of the launcher folder: the script and jar copied, the rest linked; with or without the archive. */
    private Path copy(Path built, String name, boolean withArchive) throws IOException {
        Path to = Files.createDirectories(dir.resolve(name));
        Files.copy(built.resolve("conditio"), to.resolve("conditio"));
        Files.copy(built.resolve("conditio.jar"), to.resolve("conditio.jar"),
                java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        for (String d : List.of("lib", "plugins", "models")) {
            Files.createSymbolicLink(to.resolve(d), built.resolve(d));
        }
        if (withArchive) {
            Files.copy(built.resolve("conditio.jsa"), to.resolve("conditio.jsa"));
        }
        return to.resolve("conditio");
    }

    @Test
    void theLauncherMapsTheBuildsArchiveAndRunsWithoutOneOrWithOneThatDoesNotFit() throws Exception {
        Path launcher = Path.of(System.getProperty("conditio.launcher")).toAbsolutePath();
        Path built = launcher.getParent();
        assumeTrue(Files.isRegularFile(built.resolve("conditio.jsa")),
                "the build made an archive (it does on Unix with a HotSpot JVM)");

        Run archived = generate(launcher, "archived");
        assertThat(archived.fromArchive()).as("classes mapped from the archive").isGreaterThan(1000);
        // what is left are the plugins' classes (their own class loaders) and a few generated or excluded ones
        assertThat(archived.fromJars()).as("classes still read from jars").isLessThan(archived.fromArchive() / 3);

        Run without = generate(copy(built, "without", false), "without");
        assertThat(without.fromArchive()).isZero();
        assertThat(without.fromJars()).as("classes read from jars without the archive")
                .isGreaterThan(archived.fromJars() + 1000);
        assertThat(archived.fromJars()).as("picocli's Java 5 class files are in the static archive too")
                .isLessThan(150);

        Run misfit = generate(copy(built, "moved", true), "moved");
        assertThat(misfit.fromArchive()).as("an archive made for another class path is not used").isZero();

        for (Run r : List.of(archived, without, misfit)) {
            assertThat(r.out()).startsWith("wrote ").doesNotContain("warning").doesNotContain("cds");
            assertThat(r.err()).doesNotContain("warning").doesNotContain("cds");
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.filter(f -> f.getFileName().toString().startsWith("hs_err"))).isEmpty();
        }
    }

    /** The value of one -XX flag as the JVM the launcher starts for these arguments reports it. */
    private String flag(String name, String... args) throws IOException, InterruptedException {
        Path launcher = Path.of(System.getProperty("conditio.launcher")).toAbsolutePath();
        List<String> command = new java.util.ArrayList<>(List.of(launcher.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("CONDITIO_JAVA_OPTS", "-XX:+PrintFlagsFinal");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out.lines().filter(l -> l.matches("\\s*\\w+ " + name + " +=.*")).findFirst()
                .map(l -> l.replaceAll(".*= *(\\S+).*", "$1"))
                .orElseThrow(() -> new AssertionError(name + " not printed:\n" + out));
    }

    @Test
    void shortCommandsRunWithC1OnlyAndServeAndBenchWithTheFullCompiler() throws Exception {
        assertThat(flag("TieredStopAtLevel", "--version")).isEqualTo("1");
        assertThat(flag("TieredStopAtLevel", "generate", "--help")).isEqualTo("1");
        assertThat(flag("TieredStopAtLevel", "--verbose", "plugins", "--help")).isEqualTo("1");
        assertThat(flag("TieredStopAtLevel", "serve", "--help")).isEqualTo("4");
        assertThat(flag("TieredStopAtLevel", "bench", "--help")).isEqualTo("4");
    }
}
