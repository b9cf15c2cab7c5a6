package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.conditio.cli.ConditioCli;
import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code conditio serve} as users start it: the built launcher in its own process, on a free port; an A1111 client's
 * txt2img gives the pixels {@code conditio generate} writes with the same settings; SIGTERM stops it gracefully.
 */
class ServeCommandTest {
    @TempDir
    Path dir;

    @Test
    void txt2imgGivesThePixelsOfConditioGenerateAndSigtermStopsTheServerGracefully() throws Exception {
        Path launcher = Path.of(System.getProperty("conditio.launcher"));
        assertThat(Files.isExecutable(launcher)).as("the launcher %s is built", launcher).isTrue();
        Process server = new ProcessBuilder(launcher.toString(), "serve", "--port", "0", "--plugins",
                TinyFixtures.pluginDir().toString(), "--model", ShapesModelTest.modelDir().toString(),
                "--max-steps", "1000", "--shutdown-grace", "600")
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8));
            CompletableFuture<String> first = new CompletableFuture<>();
            StringBuffer all = new StringBuffer();
            Thread reader = new Thread(() -> {
                try {
                    for (String l; (l = out.readLine()) != null; ) {
                        all.append(l).append('\n');
                        if (l.startsWith("listening on ")) {
                            first.complete(l);
                        }
                    }
                } catch (java.io.IOException e) {
                    // the process ended
                }
                first.complete(null);
            });
            reader.start();
            String line = first.get(60, TimeUnit.SECONDS);
            assertThat(line).matches("listening on http://127\\.0\\.0\\.1:\\d+");
            String url = line.substring("listening on ".length());

            HttpClient http = HttpClient.newHttpClient();
            String body = "{\"prompt\": \"a red circle at the top left\", \"negative_prompt\": \"\", \"seed\": 1234, "
                    + "\"steps\": 12, \"cfg_scale\": 3.0, \"width\": 64, \"height\": 64, \"sampler_name\": \"Euler a\", "
                    + "\"batch_size\": 1, \"n_iter\": 1}";
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/sdapi/v1/txt2img"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body))
                    .timeout(Duration.ofMinutes(2)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode json = new ObjectMapper().readTree(r.body());
            BufferedImage served = ImageIO.read(new ByteArrayInputStream(
                    Base64.getDecoder().decode(json.get("images").get(0).asText())));

            Path png = dir.resolve("cli.png");
            StringWriter cliOut = new StringWriter();
            StringWriter cliErr = new StringWriter();
            int code = ConditioCli.execute(new PrintWriter(cliOut), new PrintWriter(cliErr), "generate",
                    "--model", ShapesModelTest.modelDir().toString(), "--plugins", TinyFixtures.pluginDir().toString(),
                    "--prompt", "a red circle at the top left", "--seed", "1234", "--steps", "12", "--guidance", "3",
                    "--width", "64", "--height", "64", "--scheduler", "euler-a", "--out", png.toString());
            assertThat(code).as(cliErr.toString()).isZero();
            BufferedImage generated = ImageIO.read(png.toFile());
            assertThat(served.getRGB(0, 0, 64, 64, null, 0, 64)).isEqualTo(generated.getRGB(0, 0, 64, 64, null, 0, 64));

            // a long generation runs when SIGTERM comes (900 steps at 128 px: seconds even on a fast machine; the grace
            // period of 600 s outlasts it on a loaded one): it may finish, new work gets 503
            HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/generations"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\": \"a cross\", \"seed\": 2, "
                            + "\"steps\": 900, \"width\": 128, \"height\": 128}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(created.statusCode()).as(created.body()).isEqualTo(202);
            String id = new ObjectMapper().readTree(created.body()).get("id").asText();
            CompletableFuture<java.util.List<String>> events = http.sendAsync(HttpRequest.newBuilder(
                    URI.create(url + "/v1/generations/" + id + "/events")).header("Accept", "text/event-stream")
                    .build(), HttpResponse.BodyHandlers.ofLines()).thenApply(resp -> resp.body()
                    .filter(l -> l.startsWith("event:")).map(l -> l.substring(6).strip())
                    .collect(java.util.stream.Collectors.toList()));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!state(http, url, id).equals("running") && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            // SIGTERM by kill(1): Process.destroy() would also close the pipes this test reads
            assertThat(new ProcessBuilder("kill", "-TERM", Long.toString(server.pid())).start().waitFor()).isZero();
            int health = 0;
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (health != 503 && System.nanoTime() < deadline) {
                health = http.send(HttpRequest.newBuilder(URI.create(url + "/health")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode();
            }
            assertThat(health).as("/health while stopping").isEqualTo(503);
            HttpResponse<String> refused = http.send(HttpRequest.newBuilder(URI.create(url + "/sdapi/v1/txt2img"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).as("new work while stopping").isEqualTo(503);
            JsonNode job = generation(http, url, id);
            assertThat(job.get("state").asText()).as("the running generation goes on in the grace period: %s", job)
                    .isIn("running", "done");
            assertThat(events.get(300, TimeUnit.SECONDS)).as("its stream ends with the finished image")
                    .contains("step").last().isEqualTo("done");
            assertThat(server.waitFor(300, TimeUnit.SECONDS)).as("stopped after SIGTERM").isTrue();
            reader.join(10_000);
            assertThat(all.toString()).as("the signal handler stopped the server").contains("SIGTERM: stopping")
                    .contains("stopped");
        } finally {
            server.destroyForcibly();
        }
    }

    private static String state(HttpClient http, String url, String id) throws Exception {
        return generation(http, url, id).get("state").asText();
    }

    private static JsonNode generation(HttpClient http, String url, String id) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/generations/" + id)).build(),
                HttpResponse.BodyHandlers.ofString());
        return new ObjectMapper().readTree(r.body());
    }
}
