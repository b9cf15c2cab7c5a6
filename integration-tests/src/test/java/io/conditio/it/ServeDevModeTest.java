package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code conditio serve --plugin-dev DIR} as a plugin author runs it: the built launcher in its own process; a
 * rebuild of the plugin is loaded without restarting the server and changes what it generates; a broken rebuild is
 * reported in one line and the previous version keeps answering.
 */
class ServeDevModeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void theServerReloadsARebuiltPluginAndKeepsThePreviousVersionWhenTheRebuildIsBroken(@TempDir Path dir)
            throws Exception {
        Path launcher = Path.of(System.getProperty("conditio.launcher"));
        Path project = DevPlugins.guidanceAndScheduler(dir.resolve("dev-guidance"), "1.0.0", 1f);
        Process server = new ProcessBuilder(launcher.toString(), "serve", "--port", "0", "--plugins",
                TinyFixtures.pluginDir().toString(), "--plugin-dev", project.toString(), "--model",
                TinyFixtures.model("sd-tiny").toString()).redirectErrorStream(true).start();
        StringBuffer log = new StringBuffer();
        CompletableFuture<String> listening = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String l; (l = out.readLine()) != null; ) {
                    log.append(l).append('\n');
                    if (l.startsWith("listening on ")) {
                        listening.complete(l.substring("listening on ".length()));
                    }
                }
            } catch (java.io.IOException e) {
                // the process ended
            }
            listening.complete(null);
        });
        reader.start();
        try {
            String url = listening.get(60, TimeUnit.SECONDS);
            assertThat(url).as(log.toString()).isNotNull();
            assertThat(log.toString()).contains("plugin dev-guidance 1.0.0 runs in development mode from " + project);
            assertThat(pluginVersion(url)).isEqualTo("1.0.0");
            assertThat(get(url, "/v1/schedulers")).contains("\"dev-1-0-0\"");
            int[] v1 = generate(url);

            // the rebuild may be seen half-done (a slow compile outlasting the settle time): a failed reload before
            // the good one is allowed, so each wait reads only what the server printed after the step it waits for
            int mark = log.length();
            DevPlugins.guidanceAndScheduler(project, "2.0.0", 0.5f);
            awaitLog(log, mark, s -> s.contains("reloaded dev-guidance 2.0.0"));
            assertThat(pluginVersion(url)).isEqualTo("2.0.0");
            assertThat(get(url, "/v1/schedulers")).as("the scheduler list follows the reload")
                    .contains("\"dev-2-0-0\"").doesNotContain("\"dev-1-0-0\"");
            int[] v2 = generate(url);
            assertThat(v2).as("version 2 scales the guided prediction by half").isNotEqualTo(v1);

            Path classFile = project.resolve("target/classes/example/DevGuidance.class");
            mark = log.length();
            Files.write(classFile, Arrays.copyOf(Files.readAllBytes(classFile), 40));
            awaitLog(log, mark, s -> s.contains("reload of dev-guidance failed: "));
            assertThat(log.substring(mark)).containsPattern("reload of dev-guidance failed: extension class "
                    + "example.DevGuidance cannot be loaded: java.lang.ClassFormatError.*\\(still running 2.0.0\\)");
            assertThat(pluginVersion(url)).isEqualTo("2.0.0");
            assertThat(generate(url)).as("version 2 still answers").isEqualTo(v2);
        } finally {
            server.destroy();
            if (!server.waitFor(60, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
            reader.join(10_000);
        }
    }

    /** Waits until what the server printed from offset {@code from} on passes {@code seen}. */
    private static void awaitLog(StringBuffer log, int from, Predicate<String> seen) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!seen.test(log.substring(from)) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(seen.test(log.substring(from))).as("the server's log:\n%s", log).isTrue();
    }

    private String get(String url, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    private String pluginVersion(String url) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/plugins")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        for (JsonNode p : JSON.readTree(r.body()).get("plugins")) {
            if (p.get("id").asText().equals("dev-guidance")) {
                return p.get("version").asText();
            }
        }
        throw new AssertionError("dev-guidance not in /v1/plugins: " + r.body());
    }

    /** @return the RGB pixels of one generation with the plugin's parameter, through the native API */
    private int[] generate(String url) throws Exception {
        HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/generations"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                        "{\"prompt\": \"a red circle\", \"seed\": 5, \"steps\": 2, \"parameters\": "
                                + "{\"dev_factor\": 0.5}}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(202);
        String id = JSON.readTree(created.body()).get("id").asText();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        JsonNode job;
        do {
            Thread.sleep(100);
            job = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(url + "/v1/generations/" + id)).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
        } while (!job.get("state").asText().equals("done") && !job.has("error") && System.nanoTime() < deadline);
        assertThat(job.get("state").asText()).as(job.toString()).isEqualTo("done");
        byte[] png = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/generations/" + id + "/image"))
                .timeout(Duration.ofMinutes(1)).build(), HttpResponse.BodyHandlers.ofByteArray()).body();
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
        return image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
    }
}
