package io.conditio.server;

import io.conditio.api.ConditioException;
import io.conditio.api.GenerationCancelledException;
import io.conditio.api.GenerationRequest;
import io.conditio.api.GenerationResult;
import io.conditio.core.image.PngImages;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bounded FIFO queue: every model has a lane that runs at most {@code concurrency} generations at once, in
 * arrival order; at most {@code maxQueue} generations wait over all lanes, more are refused with 429 and a
 * Retry-After estimated from recent generation times. Finished jobs are kept for a while so clients can fetch
 * their images.
 */
final class GenerationQueue implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GenerationQueue.class);
    private static final int KEEP_FINISHED = 256;
    private static final long PREVIEW_EVERY_NANOS = 150_000_000L;

    private final ModelCatalog catalog;
    private final int concurrency;
    private final int maxQueue;
    private final ServerMetrics metrics;
    private final Map<String, Deque<Job>> waiting = new HashMap<>();
    private final Map<String, Integer> runningPerModel = new HashMap<>();
    private final List<Job> running = new ArrayList<>();
    private final Map<String, Job> jobs = new LinkedHashMap<>();
    private final ExecutorService workers;
    private int waitingCount;
    private boolean accepting = true;
    private double meanJobSeconds = 5.0;

    GenerationQueue(ModelCatalog catalog, int concurrency, int maxQueue, ServerMetrics metrics) {
        this.catalog = catalog;
        this.concurrency = concurrency;
        this.maxQueue = maxQueue;
        this.metrics = metrics;
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "conditio-generation-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Queues a job.
     *
     * @param model     the model name
     * @param requests  one request per image
     * @param describer writes each image's A1111 infotext
     * @return the queued job
     * @throws ApiError 429 when the queue is full, 503 when the server is stopping
     */
    Job submit(String model, List<GenerationRequest> requests, Job.Describer describer) {
        return submit(model, requests, 1, describer);
    }

    /**
     * @param batchSize how many consecutive requests (seeds {@code s, s + 1, ...}) run as one UNet batch
     */
    Job submit(String model, List<GenerationRequest> requests, int batchSize, Job.Describer describer) {
        Job job = new Job(UUID.randomUUID().toString(), model, requests, batchSize, describer);
        synchronized (this) {
            if (!accepting) {
                metrics.outcome("rejected");
                throw new ApiError(503, null, "the server is shutting down and takes no new generations");
            }
            Deque<Job> lane = waiting.computeIfAbsent(model, m -> new ArrayDeque<>());
            boolean startsNow = runningPerModel.getOrDefault(model, 0) < concurrency && lane.isEmpty();
            if (!startsNow && waitingCount >= maxQueue) {
                metrics.outcome("rejected");
                int retry = (int) Math.max(1, Math.ceil(meanJobSeconds * (waitingCount + 1) / concurrency));
                throw ApiError.queueFull(retry, "the queue is full (" + waitingCount + " waiting, at most "
                        + maxQueue + "); retry in about " + retry + " s");
            }
            jobs.put(job.id, job);
            trimFinished();
            lane.addLast(job);
            waitingCount++;
            job.queued(lane.size());
            dispatch(model);
        }
        return job;
    }

    private void trimFinished() {
        if (jobs.size() <= KEEP_FINISHED) {
            return;
        }
        var it = jobs.values().iterator();
        while (jobs.size() > KEEP_FINISHED && it.hasNext()) {
            if (Job.isTerminal(it.next().state())) {
                it.remove();
            }
        }
    }

    private synchronized void dispatch(String model) {
        Deque<Job> lane = waiting.get(model);
        while (lane != null && !lane.isEmpty() && runningPerModel.getOrDefault(model, 0) < concurrency) {
            Job job = lane.pollFirst();
            waitingCount--;
            runningPerModel.merge(model, 1, Integer::sum);
            running.add(job);
            workers.execute(() -> run(job));
        }
        if (lane != null) {
            int pos = 1;
            for (Job j : lane) {
                j.queued(pos++);
            }
        }
    }

    private void run(Job job) {
        long t0 = System.nanoTime();
        try {
            if (!job.start()) {
                return;
            }
            execute(job);
        } catch (RuntimeException | Error e) {
            LOG.error("generation {} failed unexpectedly", job.id, e);
            job.failed(e.getClass().getSimpleName() + ": " + catalog.redact(e.getMessage()));
            metrics.outcome("failed");
        } finally {
            synchronized (this) {
                running.remove(job);
                runningPerModel.merge(job.model, -1, Integer::sum);
                double seconds = (System.nanoTime() - t0) / 1e9;
                meanJobSeconds = 0.8 * meanJobSeconds + 0.2 * Math.max(0.05, seconds);
                dispatch(job.model);
                notifyAll();
            }
        }
    }

    private void execute(Job job) {
        try (ModelCatalog.Lease lease = catalog.lease(job.model)) {
            int factor = lease.pipeline().folder().vaeSpatialFactor();
            Path folder = lease.pipeline().folder().root().toAbsolutePath().normalize();
            for (int i = 0; i < job.requests.size(); i += job.batchSize) {
                if (job.cancelRequested()) {
                    throw new GenerationCancelledException("cancelled");
                }
                int index = i;
                int images = Math.min(job.batchSize, job.requests.size() - i);
                long[] last = {System.nanoTime(), 0L};
                // one generation for the batch's images: the requests differ only in their consecutive seeds
                GenerationRequest.Builder batch = job.requests.get(i).toBuilder().optImagesPerPrompt(images);
                GenerationRequest request = batch.optAfterStep(step -> {
                    long now = System.nanoTime();
                    metrics.step(now - last[0]);
                    last[0] = now;
                    boolean final_ = step.stepIndex() + 1 == step.totalSteps();
                    byte[] preview = null;
                    if (!final_ && now - last[1] >= PREVIEW_EVERY_NANOS) {
                        preview = LatentPreview.png(lease.pipeline().folder(), step.latents().dim(0) == 1
                                ? step.latents() : step.latents().batchEntry(0), factor);
                        last[1] = now;
                    }
                    job.step(index, step.stepIndex() + 1, step.totalSteps(), preview);
                }).build();
                CancellableGeneration generation = new CancellableGeneration(lease.pipeline(), request);
                job.running(generation);
                long g0 = System.nanoTime();
                GenerationResult result = generation.run();
                job.running(null);
                metrics.generation(System.nanoTime() - g0);
                for (int k = 0; k < images; k++) {
                    Map<String, String> provenance = sanitised(result.provenance(k).entries(), folder, job.model);
                    String infotext = job.describer.infotext(job.requests.get(i + k), provenance);
                    Map<String, String> text = new LinkedHashMap<>();
                    text.put("parameters", infotext);
                    text.putAll(provenance);
                    byte[] png;
                    try {
                        png = PngImages.encode(result.images().get(k), text);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    job.output(new Job.Output(png, Long.parseLong(provenance.getOrDefault("seed", "0")), infotext));
                }
            }
            job.done();
            metrics.outcome("done");
        } catch (GenerationCancelledException e) {
            job.cancelled();
            metrics.outcome("cancelled");
        } catch (ApiError e) {
            job.failed(e.status(), catalog.redact(e.getMessage()));
            metrics.outcome("failed");
        } catch (ConditioException | IllegalArgumentException e) {
            boolean client = e instanceof io.conditio.api.InvalidRequestException
                    || e instanceof io.conditio.api.ConfigurationException
                    || e instanceof io.conditio.api.ModelInputException || e instanceof IllegalArgumentException;
            job.failed(client ? 400 : 500, catalog.redact(e.getMessage()));
            metrics.outcome("failed");
        }
    }

    /** The server's folders are not the client's business: they are written as model names. */
    static Map<String, String> sanitised(Map<String, String> entries, Path folder, String model) {
        String root = folder.toString();
        Path parent = folder.getParent();
        String parentPrefix = parent == null ? null : parent.toString() + java.io.File.separator;
        Map<String, String> out = new LinkedHashMap<>();
        entries.forEach((k, v) -> {
            String s = v.replace(root, model);
            if (parentPrefix != null) {
                s = s.replace(parentPrefix, "");
            }
            out.put(k, s);
        });
        return out;
    }

    synchronized Job get(String id) {
        return jobs.get(id);
    }

    /**
     * @param id a job id
     * @return true when the job existed and was not finished
     */
    boolean cancel(String id) {
        Job job;
        synchronized (this) {
            job = jobs.get(id);
            if (job == null) {
                throw ApiError.notFound("no generation " + id);
            }
            for (Deque<Job> lane : waiting.values()) {
                if (lane.remove(job)) {
                    waitingCount--;
                    job.cancel();
                    job.cancelled();
                    metrics.outcome("cancelled");
                    dispatch(job.model);
                    return true;
                }
            }
        }
        return job.cancel();
    }

    /** Cancels every running job (A1111's interrupt). */
    void interruptRunning() {
        List<Job> now;
        synchronized (this) {
            now = List.copyOf(running);
        }
        now.forEach(Job::cancel);
    }

    synchronized int waitingCount() {
        return waitingCount;
    }

    synchronized int runningCount() {
        return running.size();
    }

    synchronized List<Job> runningJobs() {
        return List.copyOf(running);
    }

    /**
     * Stops taking jobs, drops the waiting ones, lets the running ones finish within the grace period and cancels
     * what is still running after it.
     *
     * @param grace how long running generations may take
     */
    void shutdown(Duration grace) {
        List<Job> dropped = new ArrayList<>();
        synchronized (this) {
            accepting = false;
            waiting.values().forEach(dropped::addAll);
            waiting.clear();
            waitingCount = 0;
        }
        for (Job j : dropped) {
            j.cancel();
            j.cancelled();
        }
        long deadline = System.nanoTime() + grace.toNanos();
        synchronized (this) {
            while (!running.isEmpty() && System.nanoTime() < deadline) {
                try {
                    wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        interruptRunning();
        synchronized (this) {
            long hard = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!running.isEmpty() && System.nanoTime() < hard) {
                try {
                    wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
        workers.shutdownNow();
    }
}
