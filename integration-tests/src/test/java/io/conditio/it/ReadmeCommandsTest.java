package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every shell block ({@code ```sh}) of README.md and of the Markdown files under docs/ runs as written, with bash
 * ({@code -euo pipefail}) from the repository root, after the build made the launchers: it exits 0, every file it
 * names after {@code --out}, {@code -o} or {@code >} exists, and it leaves no file in the repository that .gitignore
 * does not cover. Three kinds of block are handled, not skipped:
 * <ul>
 * <li>the main command {@code mvn ... install -DskipTests && COMMAND}: its build is the build this test runs in, so
 * COMMAND runs;</li>
 * <li>a block that starts {@code conditio serve} runs in the background on a free port (the one change made to the
 * text: {@code 7860} becomes that port, so parallel builds do not collide) until it prints {@code listening on}; the
 * other shell blocks of its section run against it, then it gets SIGTERM and must say {@code stopped};</li>
 * <li>the blocks in {@link #OUTSIDE_THE_BUILD} run Maven themselves, which a test inside a Maven build must not do;
 * each has its reason, and .ci/run runs those it can ({@code tools/readme-block "FIRST LINE"}), which this test
 * checks.</li>
 * </ul>
 * Other fences must name their language ({@code text} for a synopsis, {@code json}, {@code java}), and a text block
 * may not hold a command that would run as written, so no runnable command escapes this test.
 */
class ReadmeCommandsTest {
    /**
     * Why a block does not run here.
     *
     * @param reason what it does that a test inside a Maven build must not
     * @param byCi   whether .ci/run runs it, as {@code tools/readme-block "FIRST LINE"}
     */
    record Outside(String reason, boolean byCi) {
    }

    /** The blocks that do not run here, by their first line (without a trailing comment or backslash). */
    static final Map<String, Outside> OUTSIDE_THE_BUILD = Map.of(
            "mvn -B verify", new Outside("the README's test command is the build this test is part of;"
                    + " .ci/run runs it first", false),
            "mvn -B -ntp -q install -DskipTests -pl api,tck,bom,plugin-parent -am", new Outside(
                    "installs the SPI into the local repository and builds the plugin template with Maven", true),
            "mvn -B test -Pfuzz -pl core -am -Dtest='BoundaryFuzzTest#jsonText' -Dsurefire.failIfNoSpecifiedTests=false",
            new Outside("a Maven build of its own that fuzzes for 30 s", true),
            "mvn -B verify -Psoak -pl integration-tests -am", new Outside("a Maven build of its own that runs every"
                    + " upstream module's unit tests, then 1,000 generations: too long for CI, run by hand", false),
            "mvn -B -ntp -Pbench package -DskipTests -pl samples/cli,integration-tests/benchmarks -am", new Outside(
                    "a Maven build of its own, then about 15 minutes of JMH on a quiet machine: run by hand", false),
            "mvn -B package -DskipTests -Donnxruntime.artifactId=onnxruntime_gpu", new Outside("a Maven build of"
                    + " its own that downloads ONNX Runtime's GPU artifact, useful only where CUDA is", false));

    private static final Pattern MAIN_COMMAND = Pattern.compile("mvn [^&]* install -DskipTests && (.+)");
    private static final Pattern SERVE = Pattern.compile("^samples/cli/target/conditio serve\\b");
    private static final Pattern OUTPUT = Pattern.compile("(?:--out|-o|>)\\s+([^\\s;|&]+)");
    private static final long BLOCK_SECONDS = 300;

    @TempDir
    Path logs;

    /** A fenced block: the file, the line of its opening fence, its language and its lines, de-indented. */
    record Block(Path file, int line, String language, List<String> lines) {
        String text() {
            return String.join("\n", lines) + "\n";
        }

        String name() {
            return root().relativize(file) + ":" + line;
        }

        /** The first line, without a trailing comment ({@code  # ...}) or line continuation. */
        String firstLine() {
            return lines.isEmpty() ? "" : lines.get(0).replaceFirst("\\s+#\\s.*$", "").replaceFirst("\\s*\\\\$", "");
        }

        boolean isShell() {
            return language.equals("sh") || language.equals("bash");
        }
    }

    static Path root() {
        return TinyFixtures.directoryProperty("conditio.repoRoot", "repository root");
    }

    /** README.md, then the Markdown files under docs/ in path order. */
    static List<Path> documents() {
        try (Stream<Path> docs = Files.walk(root().resolve("docs"))) {
            List<Path> files = new ArrayList<>(List.of(root().resolve("README.md")));
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
            return files;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Block> blocks(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String open = lines.get(i);
            String fence = open.stripLeading();
            if (!fence.startsWith("```")) {
                continue;
            }
            int indent = open.length() - fence.length();
            List<String> body = new ArrayList<>();
            int j = i + 1;
            for (; j < lines.size() && !lines.get(j).strip().equals("```"); j++) {
                String l = lines.get(j);
                body.add(l.length() >= indent && l.substring(0, indent).isBlank() ? l.substring(indent) : l);
            }
            assertThat(j).as("%s:%d: the fence is closed", root().relativize(file), i + 1).isLessThan(lines.size());
            blocks.add(new Block(file, i + 1, fence.substring(3).strip(), body));
            i = j;
        }
        return blocks;
    }

    static List<Block> allBlocks() {
        return documents().stream().flatMap(d -> blocks(d).stream()).toList();
    }

    @Test
    void everyFenceNamesItsLanguageAndNoRunnableCommandHidesInAText() {
        List<Block> blocks = allBlocks();
        assertThat(blocks).as("fenced blocks in README.md").hasSizeGreaterThan(20);
        List<String> problems = new ArrayList<>();
        for (Block b : blocks) {
            if (b.language().isEmpty()) {
                problems.add(b.name() + ": a fence without a language (sh for commands that run as written, text for"
                        + " a synopsis)");
            } else if (b.language().equals("text")) {
                b.lines().stream().filter(l -> l.startsWith("samples/") || l.startsWith("mvn ")
                        || l.startsWith("curl ")).forEach(l -> problems.add(b.name() + ": a command in a text block,"
                        + " which would run as written: make the block sh: " + l));
            }
        }
        assertThat(problems).as("fences").isEmpty();
    }

    @Test
    void theBlocksThatDoNotRunHereAreRunByCi() throws IOException {
        Set<String> firstLines = allBlocks().stream().filter(Block::isShell).map(Block::firstLine)
                .collect(Collectors.toSet());
        String ci = Files.readString(root().resolve(".ci/run"));
        OUTSIDE_THE_BUILD.forEach((first, outside) -> {
            assertThat(firstLines).as("a shell block whose first line is %s (listed as not run here)", first)
                    .contains(first);
            if (outside.byCi()) {
                assertThat(ci).as(".ci/run runs the README block %s", first)
                        .contains("tools/readme-block \"" + first + "\"");
            }
        });
        assertThat(ci).as(".ci/run runs the README's test command").containsPattern("(?m)^mvn -B (-ntp )?verify$");
    }

    @TestFactory
    Stream<DynamicTest> everyShellBlockRunsAsWrittenFromTheRepositoryRoot() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path doc : documents()) {
            List<Block> shell = blocks(doc).stream().filter(Block::isShell).toList();
            Set<Block> clients = new LinkedHashSet<>();
            for (int i = 0; i < shell.size(); i++) {
                Block b = shell.get(i);
                if (clients.contains(b) || OUTSIDE_THE_BUILD.containsKey(b.firstLine())) {
                    continue;
                }
                String title = b.name() + " " + b.firstLine();
                if (SERVE.matcher(b.firstLine()).find()) {
                    List<Block> mine = clientsOf(b, shell.subList(i + 1, shell.size()));
                    clients.addAll(mine);
                    tests.add(DynamicTest.dynamicTest(title, () -> runServer(b, mine)));
                } else {
                    tests.add(DynamicTest.dynamicTest(title, () -> run(b)));
                }
            }
        }
        assertThat(tests).as("shell blocks to run").hasSizeGreaterThan(10);
        return tests.stream();
    }

    /** The shell blocks after a server block and before the next level-2 heading of its document. */
    private static List<Block> clientsOf(Block server, List<Block> later) {
        List<String> lines;
        try {
            lines = Files.readAllLines(server.file(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int end = lines.size();
        for (int i = server.line(); i < lines.size(); i++) {
            if (lines.get(i).startsWith("## ")) {
                end = i + 1;
                break;
            }
        }
        int sectionEnd = end;
        return later.stream().filter(b -> b.line() < sectionEnd).toList();
    }

    /** The script that runs: the block, or for the main command what follows its build. */
    private static String script(Block b) {
        Matcher main = MAIN_COMMAND.matcher(b.firstLine());
        if (b.lines().size() == 1 && main.matches()) {
            return main.group(1) + "\n";
        }
        return b.text();
    }

    private void run(Block b) throws Exception {
        String script = script(b);
        List<Path> outputs = outputs(script);
        outputs.forEach(ReadmeCommandsTest::delete);
        Set<String> before = untracked();
        Result r = bash(b, script);
        r.assertExit0();
        assertOutputs(b, outputs);
        assertNothingLeftBehind(b, before);
    }

    private void runServer(Block server, List<Block> clients) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String serve = server.text().replace("7860", Integer.toString(port))
                .replaceFirst("conditio serve\\b", "conditio serve --port " + port);
        Set<String> before = untracked();
        Path log = logs.resolve("server-" + server.line() + ".log");
        Process p = start(serve, log);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.readString(log).contains("listening on ")) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    fail(server.name() + " did not print 'listening on' within 120 s; its output:\n"
                            + tail(Files.readString(log)));
                }
                Thread.sleep(200);
            }
            for (Block c : clients) {
                String script = c.text().replace("7860", Integer.toString(port));
                List<Path> outputs = outputs(script);
                outputs.forEach(ReadmeCommandsTest::delete);
                Result r = bash(c, script);
                r.assertExit0();
                assertOutputs(c, outputs);
            }
        } finally {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
            p.waitFor(60, TimeUnit.SECONDS);
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        assertThat(Files.readString(log)).as("%s on SIGTERM", server.name()).containsPattern("(?m)^stopped");
        for (Block c : clients) {
            assertNothingLeftBehind(c, before);
        }
    }

    private record Result(Block block, int code, long millis, String out, String err, boolean timedOut) {
        void assertExit0() {
            if (timedOut) {
                fail(block.name() + " (" + block.firstLine() + ") was still running after " + BLOCK_SECONDS
                        + " s and was stopped; stderr:\n" + tail(err) + "\nstdout:\n" + tail(out));
            }
            if (code != 0) {
                fail(block.name() + " (" + block.firstLine() + ") exited " + code + " after " + millis
                        + " ms; stderr:\n" + tail(err) + "\nstdout:\n" + tail(out));
            }
        }
    }

    private Process start(String script, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("bash", "-euo", "pipefail", "-c", script)
                .directory(root().toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().remove("CONDITIO_MODEL");
        pb.environment().remove("CONDITIO_PLUGINS");
        return pb.start();
    }

    private Result bash(Block b, String script) throws Exception {
        Path out = logs.resolve(b.line() + ".out");
        Path err = logs.resolve(b.line() + ".err");
        ProcessBuilder pb = new ProcessBuilder("bash", "-euo", "pipefail", "-c", script)
                .directory(root().toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().remove("CONDITIO_MODEL");
        pb.environment().remove("CONDITIO_PLUGINS");
        long t0 = System.nanoTime();
        Process p = pb.start();
        boolean done = p.waitFor(BLOCK_SECONDS, TimeUnit.SECONDS);
        if (!done) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        return new Result(b, done ? p.exitValue() : -1, millis, Files.readString(out), Files.readString(err), !done);
    }

    /** The files and folders a script names after --out, -o or >, inside the repository. */
    static List<Path> outputs(String script) {
        List<Path> outputs = new ArrayList<>();
        Matcher m = OUTPUT.matcher(script.replaceAll("(?m)#.*$", ""));
        while (m.find()) {
            String name = m.group(1);
            if (!name.contains("$") && !name.startsWith("/")) {
                outputs.add(root().resolve(name).normalize());
            }
        }
        return outputs;
    }

    /** Removes a stale output first, so that only what the block writes passes: files, or folders under target/. */
    private static void delete(Path p) {
        try {
            if (Files.isRegularFile(p)) {
                Files.delete(p);
            } else if (Files.isDirectory(p) && p.startsWith(root().resolve("target"))) {
                try (Stream<Path> all = Files.walk(p)) {
                    for (Path q : all.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(q);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void assertOutputs(Block b, List<Path> outputs) throws IOException {
        for (Path o : outputs) {
            assertThat(Files.exists(o)).as("%s wrote %s", b.name(), root().relativize(o)).isTrue();
            if (Files.isRegularFile(o)) {
                assertThat(Files.size(o)).as("%s wrote %s, not empty", b.name(), root().relativize(o)).isPositive();
            }
        }
    }

    private static void assertNothingLeftBehind(Block b, Set<String> before) throws Exception {
        Set<String> after = untracked();
        after.removeAll(before);
        assertThat(after).as("%s left files in the repository that .gitignore does not cover", b.name()).isEmpty();
    }

    /** Untracked files not covered by .gitignore; empty when the repository is not a git checkout. */
    private static Set<String> untracked() throws Exception {
        Process p = new ProcessBuilder("git", "-C", root().toString(), "ls-files", "--others", "--exclude-standard")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            return new LinkedHashSet<>();
        }
        return out.lines().collect(Collectors.toCollection(LinkedHashSet::new));
    }

    private static String tail(String s) {
        List<String> lines = s.lines().toList();
        return lines.subList(Math.max(0, lines.size() - 25), lines.size()).stream()
                .map(l -> "    " + l).collect(Collectors.joining("\n"));
    }
}
