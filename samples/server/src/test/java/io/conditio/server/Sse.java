package io.conditio.server;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/** Reads a Server-Sent Events stream of the native API until its terminal event. */
final class Sse {
    record Event(String type, JsonNode data) {
    }

    final List<Event> events = new CopyOnWriteArrayList<>();
    final CompletableFuture<List<Event>> finished = new CompletableFuture<>();

    static Sse open(TestServers.Client client, String id) {
        Sse sse = new Sse();
        var request = client.request("/v1/generations/" + id + "/events").header("Accept", "text/event-stream")
                .GET().build();
        client.http.sendAsync(request, HttpResponse.BodyHandlers.ofLines()).thenAccept(r -> {
            try (Stream<String> lines = r.body()) {
                String type = null;
                for (String line : (Iterable<String>) lines::iterator) {
                    if (line.startsWith("event:")) {
                        type = line.substring(6).strip();
                    } else if (line.startsWith("data:") && type != null) {
                        sse.events.add(new Event(type, JsonFields.MAPPER.readTree(line.substring(5).strip())));
                        if (type.equals("done") || type.equals("failed") || type.equals("cancelled")) {
                            break;
                        }
                    }
                }
                sse.finished.complete(new ArrayList<>(sse.events));
            } catch (IOException e) {
                sse.finished.completeExceptionally(new UncheckedIOException(e));
            }
        }).exceptionally(t -> {
            sse.finished.completeExceptionally(t);
            return null;
        });
        return sse;
    }

    List<String> types() {
        return events.stream().map(Event::type).toList();
    }
}
