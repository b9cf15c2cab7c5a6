package io.conditio.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The server's metrics in Prometheus' text format, through Micrometer: queue depth, running generations,
 * generations by outcome, a step-time histogram, generation time, HTTP requests by route and status.
 */
final class ServerMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, Counter> outcomes = new ConcurrentHashMap<>();
    private final Timer stepTime;
    private final Timer generationTime;

    ServerMetrics(Supplier<Number> queueDepth, Supplier<Number> running, Supplier<Number> openModels) {
        Gauge.builder("conditio.queue.depth", queueDepth).description("generations waiting in the queue")
                .register(registry);
        Gauge.builder("conditio.generations.running", running).description("generations running now")
                .register(registry);
        Gauge.builder("conditio.models.open", openModels).description("model pipelines open now")
                .register(registry);
        stepTime = Timer.builder("conditio.step.duration").description("time of one denoising step")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(60)).register(registry);
        generationTime = Timer.builder("conditio.generation.duration")
                .description("time of one image, from start to PNG").publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(10)).maximumExpectedValue(Duration.ofMinutes(30))
                .register(registry);
        for (String o : new String[] {"done", "failed", "cancelled", "rejected"}) {
            outcome(o, 0);
        }
    }

    void outcome(String outcome) {
        outcome(outcome, 1);
    }

    private void outcome(String outcome, int n) {
        outcomes.computeIfAbsent(outcome, o -> Counter.builder("conditio.generations")
                .description("generations by outcome").tag("outcome", o).register(registry)).increment(n);
    }

    /** @param reason why a model was closed: idle, memory, heap or count */
    void modelClosed(String reason) {
        registry.counter("conditio.models.closed", "reason", reason).increment();
    }

    void step(long nanos) {
        stepTime.record(Duration.ofNanos(nanos));
    }

    void generation(long nanos) {
        generationTime.record(Duration.ofNanos(nanos));
    }

    void request(String route, int status) {
        registry.counter("conditio.http.requests", "route", route, "status", Integer.toString(status)).increment();
    }

    /** @return the Prometheus text exposition */
    String scrape() {
        return registry.scrape();
    }
}
