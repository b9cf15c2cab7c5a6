package io.conditio.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.function.Consumer;
import javax.imageio.ImageIO;

/** Servers on the shipped model with the built plugin jars, and a small HTTP client for them. */
final class TestServers {
    private TestServers() {
    }

    static Path directory(String property) {
        String dir = System.getProperty(property);
        assertThat(dir).as("system property %s (set by the build)", property).isNotNull();
        Path p = Path.of(dir);
        assertThat(Files.isDirectory(p)).as("%s exists", p).isTrue();
        return p;
    }

    static Path shapes() {
        return directory("conditio.shapesModel");
    }

    static Path example(String file) {
        return directory("conditio.examples").resolve(file);
    }

    /**
     * Request fields of a generation that is still running seconds after it starts, on any machine: tests that cancel,
     * interrupt or stop the server while it runs need one (900 steps at 64 px take under a second on a fast machine).
     */
    static final String LONG_RUN = "\"steps\": 900, \"width\": 256, \"height\": 256";

    static ConditioServer start(Consumer<ServerConfig.Builder> tweak) {
        ServerConfig.Builder b = ServerConfig.builder().optPort(0).setModel(shapes())
                .optPluginDirectories(List.of(directory("conditio.plugins")))
                .optLimits(Limits.defaults().withMaxSteps(2000)).optShutdownGrace(Duration.ofSeconds(5));
        tweak.accept(b);
        return ConditioServer.start(b.build());
    }

    /** A client of one server. */
    static final class Client {
        final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        final String base;
        final String key;

        Client(ConditioServer server) {
            this(server, null);
        }

        Client(ConditioServer server, String key) {
            this.base = server.url();
            this.key = key;
        }

        HttpRequest.Builder request(String path) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofMinutes(2));
            if (key != null) {
                b.header("Authorization", "Bearer " + key);
            }
            return b;
        }

        HttpResponse<String> get(String path) {
            return send(request(path).GET().build());
        }

        HttpResponse<String> post(String path, String json) {
            return send(request(path).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json)).build());
        }

        /**
         * @param parts part name to its content: a String is a text field, a byte[] a file (named after the part)
         */
        HttpResponse<String> postMultipart(String path, java.util.Map<String, Object> parts) {
            String boundary = "conditio-test-" + Long.toHexString(System.nanoTime());
            java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
            for (var e : parts.entrySet()) {
                StringBuilder head = new StringBuilder("--").append(boundary).append("\r\n")
                        .append("Content-Disposition: form-data; name=\"").append(e.getKey()).append('"');
                byte[] content;
                if (e.getValue() instanceof byte[] bytes) {
                    head.append("; filename=\"").append(e.getKey().replaceAll("[^A-Za-z0-9_.]", "_"))
                            .append(".png\"\r\nContent-Type: image/png");
                    content = bytes;
                } else {
                    content = String.valueOf(e.getValue()).getBytes(StandardCharsets.UTF_8);
                }
                head.append("\r\n\r\n");
                body.writeBytes(head.toString().getBytes(StandardCharsets.UTF_8));
                body.writeBytes(content);
                body.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
            }
            body.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
            return send(request(path).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build());
        }

        HttpResponse<String> delete(String path) {
            return send(request(path).DELETE().build());
        }

        HttpResponse<byte[]> getBytes(String path) {
            try {
                return http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        HttpResponse<String> send(HttpRequest r) {
            try {
                return http.send(r, HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        JsonNode json(HttpResponse<String> r) {
            try {
                return JsonFields.MAPPER.readTree(r.body());
            } catch (IOException e) {
                throw new UncheckedIOException(r.body(), e);
            }
        }
    }

    /**
     * Polls a native-API generation until it reaches a state.
     *
     * @param c       the client
     * @param id      the generation id
     * @param state   the state to wait for
     * @param timeout how long to wait at most
     * @return the generation's state object once it is in {@code state}
     * @throws AssertionError naming the last state seen when the time runs out
     */
    static JsonNode waitFor(Client c, String id, String state, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode n;
        do {
            n = c.json(c.get("/v1/generations/" + id));
            if (n.get("state").asText().equals(state)) {
                return n;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("generation " + id + " did not reach " + state + ": " + n);
    }

    static BufferedImage png(byte[] bytes) {
        try {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
            assertThat(img).as("a decodable PNG").isNotNull();
            return img;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static BufferedImage png(String base64) {
        return png(Base64.getDecoder().decode(base64));
    }

    static int[] pixels(BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    static String dataUrl(Path png) {
        try {
            return "data:image/png;base64," + Base64.getEncoder().encodeToString(Files.readAllBytes(png));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The text of a PNG's iTXt or tEXt chunk with this keyword, or null. */
    static String pngText(byte[] png, String keyword) {
        int i = 8;
        while (i + 8 <= png.length) {
            int len = ((png[i] & 0xff) << 24) | ((png[i + 1] & 0xff) << 16) | ((png[i + 2] & 0xff) << 8)
                    | (png[i + 3] & 0xff);
            String type = new String(png, i + 4, 4, StandardCharsets.ISO_8859_1);
            int data = i + 8;
            if (type.equals("iTXt") || type.equals("tEXt")) {
                int nul = data;
                while (png[nul] != 0) {
                    nul++;
                }
                String key = new String(png, data, nul - data, StandardCharsets.ISO_8859_1);
                if (key.equals(keyword)) {
                    int start = nul + 1;
                    if (type.equals("iTXt")) {
                        start += 2; // compression flag and method
                        for (int z = 0; z < 2; z++) { // language tag, translated keyword
                            while (png[start] != 0) {
                                start++;
                            }
                            start++;
                        }
                    }
                    return new String(png, start, data + len - start, StandardCharsets.UTF_8);
                }
            }
            i = data + len + 4;
        }
        return null;
    }
}
