package io.conditio.server;

import io.conditio.api.GenerationRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One queued request: one or more images of one model, generated one after another (A1111's batch_size × n_iter
 * are several images of one job). Its events reach only its own listeners, in order: {@code queued} (with the
 * position, again whenever it moves up), {@code started}, {@code step} (progress and sometimes a preview),
 * {@code image} (one per finished image), then exactly one of {@code done}, {@code failed}, {@code cancelled}.
 */
final class Job {
    enum State { QUEUED, RUNNING, DONE, FAILED, CANCELLED }

    /** One finished image. */
    record Output(byte[] png, long seed, String infotext) {
    }

    /** One event as a client sees it. */
    record Event(String type, Map<String, Object> data) {
    }

    /** How a job's images are labelled in A1111's infotext. */
    interface Describer {
        /**
         * @param request    the request of one image
         * @param provenance the result's provenance
         * @return the A1111 {@code parameters} text for it
         */
        String infotext(GenerationRequest request, Map<String, String> provenance);
    }

    final String id;
    final String model;
    final List<GenerationRequest> requests;
    /**
     * How many consecutive requests run as one generation of several images per prompt (A1111's
     * {@code batch_size}): they differ only in their seeds, {@code seed, seed + 1, ...}, which is what the batch
     * gives its images.
     */
    final int batchSize;
    final Describer describer;
    final Instant created = Instant.now();

    private final List<Consumer<Event>> listeners = new ArrayList<>();
    private final List<Event> history = new ArrayList<>();
    private final List<Output> outputs = new ArrayList<>();
    private final CompletableFuture<Job> finished = new CompletableFuture<>();
    private State state = State.QUEUED;
    private int step;
    private int totalSteps;
    private int imageIndex;
    private byte[] preview;
    private String error;
    private int failedStatus;
    private Instant started;
    private Instant ended;
    private volatile boolean cancelRequested;
    private CancellableGeneration running;

    Job(String id, String model, List<GenerationRequest> requests, Describer describer) {
        this(id, model, requests, 1, describer);
    }

    Job(String id, String model, List<GenerationRequest> requests, int batchSize, Describer describer) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        this.id = id;
        this.model = model;
        this.requests = List.copyOf(requests);
        this.batchSize = batchSize;
        this.describer = describer;
    }

    /**
     * Adds a listener and replays what happened so far to it (runs of step or queued events shortened to
     * their latest),
     * under the job's lock, so a listener sees every event once and in order.
     *
     * @param listener called for each event, on the thread that makes it
     * @return a handle that removes the listener
     */
    synchronized Runnable listen(Consumer<Event> listener) {
        for (Event e : history) {
            listener.accept(e);
        }
        listeners.add(listener);
        return () -> {
            synchronized (Job.this) {
                listeners.remove(listener);
            }
        };
    }

    static boolean isTerminal(State s) {
        return s == State.DONE || s == State.FAILED || s == State.CANCELLED;
    }

    private void emit(String type, Map<String, Object> data) {
        Event e = new Event(type, data);
        boolean replaces = type.equals("step") || type.equals("queued");
        if (replaces && !history.isEmpty() && history.get(history.size() - 1).type().equals(type)) {
            history.set(history.size() - 1, e);
        } else {
            history.add(e);
        }
        for (Consumer<Event> l : List.copyOf(listeners)) {
            try {
                l.accept(e);
            } catch (RuntimeException ignored) {
                // a listener whose client went away must not stop the others
            }
        }
    }

    private Map<String, Object> base() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        return m;
    }

    synchronized void queued(int position) {
        if (state != State.QUEUED) {
            return;
        }
        Map<String, Object> m = base();
        m.put("position", position);
        emit("queued", m);
    }

    /** @return false when the job was cancelled before it could start */
    synchronized boolean start() {
        if (state != State.QUEUED) {
            return false;
        }
        state = State.RUNNING;
        started = Instant.now();
        Map<String, Object> m = base();
        m.put("images", requests.size());
        emit("started", m);
        return true;
    }

    synchronized void step(int imageIndex, int step, int totalSteps, byte[] previewPng) {
        this.imageIndex = imageIndex;
        this.step = step;
        this.totalSteps = totalSteps;
        if (previewPng != null) {
            this.preview = previewPng;
        }
        Map<String, Object> m = base();
        m.put("image", imageIndex);
        m.put("images", requests.size());
        m.put("step", step);
        m.put("total_steps", totalSteps);
        m.put("progress", progress());
        if (previewPng != null) {
            m.put("preview", "data:image/png;base64," + java.util.Base64.getEncoder().encodeToString(previewPng));
        }
        emit("step", m);
    }

    synchronized void output(Output o) {
        outputs.add(o);
        Map<String, Object> m = base();
        m.put("index", outputs.size() - 1);
        m.put("seed", o.seed());
        m.put("url", "/v1/generations/" + id + "/image" + (outputs.size() == 1 ? "" : "?index=" + (outputs.size() - 1)));
        emit("image", m);
    }

    synchronized void done() {
        end(State.DONE, null);
    }

    synchronized void failed(String message) {
        failed(500, message);
    }

    /**
     * @param status  400 when the request was at fault (a bad parameter found while preparing), 500 otherwise
     * @param message what went wrong
     */
    synchronized void failed(int status, String message) {
        this.failedStatus = status;
        end(State.FAILED, message);
    }

    synchronized int failedStatus() {
        return failedStatus;
    }

    synchronized void cancelled() {
        end(State.CANCELLED, null);
    }

    private void end(State s, String message) {
        if (isTerminal(state)) {
            return;
        }
        state = s;
        error = message;
        ended = Instant.now();
        Map<String, Object> m = base();
        if (s == State.DONE) {
            m.put("images", outputs.size());
            List<Long> seeds = new ArrayList<>();
            outputs.forEach(o -> seeds.add(o.seed()));
            m.put("seeds", seeds);
        } else if (s == State.FAILED) {
            m.put("error", message);
        } else {
            m.put("images", outputs.size());
        }
        emit(s.name().toLowerCase(java.util.Locale.ROOT), m);
        finished.complete(this);
    }

    /**
     * Asks the job to stop: a queued job never starts, a running one stops within one step.
     *
     * @return true when the job was not finished yet
     */
    boolean cancel() {
        CancellableGeneration g;
        synchronized (this) {
            if (isTerminal(state)) {
                return false;
            }
            cancelRequested = true;
            g = running;
        }
        if (g != null) {
            g.cancel();
        }
        return true;
    }

    boolean cancelRequested() {
        return cancelRequested;
    }

    synchronized void running(CancellableGeneration g) {
        this.running = g;
        if (cancelRequested && g != null) {
            g.cancel();
        }
    }

    CompletableFuture<Job> finished() {
        return finished;
    }

    synchronized State state() {
        return state;
    }

    synchronized List<Output> outputs() {
        return List.copyOf(outputs);
    }

    synchronized byte[] preview() {
        return preview;
    }

    synchronized String error() {
        return error;
    }

    /** @return the fraction done over all images, 0 to 1 */
    synchronized double progress() {
        if (state == State.DONE) {
            return 1.0;
        }
        if (totalSteps == 0) {
            return 0.0;
        }
        return (imageIndex + (double) step / totalSteps) / requests.size();
    }

    /** @return a JSON-ready snapshot */
    synchronized Map<String, Object> snapshot() {
        Map<String, Object> m = base();
        m.put("model", model);
        m.put("state", state.name().toLowerCase(java.util.Locale.ROOT));
        m.put("progress", progress());
        m.put("step", step);
        m.put("total_steps", totalSteps);
        m.put("image", imageIndex);
        m.put("images", requests.size());
        m.put("created", created.toString());
        m.put("started", started == null ? null : started.toString());
        m.put("finished", ended == null ? null : ended.toString());
        if (error != null) {
            m.put("error", error);
        }
        List<Map<String, Object>> imgs = new ArrayList<>();
        for (int i = 0; i < outputs.size(); i++) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("url", "/v1/generations/" + id + "/image" + (i == 0 ? "" : "?index=" + i));
            o.put("seed", outputs.get(i).seed());
            o.put("parameters", outputs.get(i).infotext());
            imgs.add(o);
        }
        m.put("outputs", imgs);
        return m;
    }

    synchronized int step() {
        return step;
    }

    synchronized int totalSteps() {
        return totalSteps;
    }

    synchronized int imageIndex() {
        return imageIndex;
    }

    synchronized Instant startedAt() {
        return started;
    }
}
