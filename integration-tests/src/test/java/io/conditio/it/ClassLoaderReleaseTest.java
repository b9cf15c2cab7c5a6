package io.conditio.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.conditio.api.Conditioner;
import io.conditio.api.GenerationRequest;
import io.conditio.api.SchedulerProvider;
import io.conditio.core.Conditio;
import io.conditio.core.pipeline.Pipeline;
import java.lang.ref.WeakReference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Once a runtime is closed, nothing keeps its plugins' class loaders alive: a host that reloads plugins for days must
 * not accumulate them. The plugins are real jars loaded by PF4J from directories: a third-party one built here (a
 * Guice-injected conditioner and a scheduler provider, both used by a generation) and every built-in plugin.
 */
class ClassLoaderReleaseTest {

    private static final String CONDITIONER = """
            package example;
            import io.conditio.api.*;
            import java.util.Optional;
            import jakarta.inject.Inject;
            import org.pf4j.Extension;
            @Extension
            public class CountingConditioner implements Conditioner {
                static final ThreadLocal<int[]> CALLS = ThreadLocal.withInitial(() -> new int[1]);
                private final Helper helper;
                @Inject
                public CountingConditioner(Helper helper) {
                    this.helper = helper;
                }
                public String id() {
                    return "counting";
                }
                public Optional<Conditioning> prepare(ConditioningContext context) {
                    CALLS.get()[0] += helper.one();
                    return Optional.empty();
                }
            }
            """;

    private static final String HELPER = """
            package example;
            public class Helper {
                public int one() {
                    return 1;
                }
            }
            """;

    private static final String SCHEDULERS = PluginSources.schedulerProvider("NoSchedulers", "ReleaseTestScheduler",
            "List.of()", "throw new UnsupportedOperationException(\"not used\");");

    @Test
    void closingTheRuntimeLetsEveryPluginClassLoaderBeCollected(@TempDir Path dir) throws Exception {
        Path third = PluginJars.build(dir, "release-test", Map.of("example.CountingConditioner", CONDITIONER,
                "example.Helper", HELPER, "example.NoSchedulers", SCHEDULERS),
                List.of("example.CountingConditioner", "example.NoSchedulers"));
        List<WeakReference<ClassLoader>> loaders = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int round = 0; round < 2; round++) {
            useAndClose(third, loaders, names);
        }
        assertThat(names).as("plugin class loaders seen").contains("release-test", "schedulers", "text-conditioning");

        long deadline = System.nanoTime() + 20_000_000_000L;
        List<String> alive = alive(loaders, names);
        while (!alive.isEmpty() && System.nanoTime() < deadline) {
            // soft references and pending finalization must not be the reason a loader is still there
            Heap.collect();
            alive = alive(loaders, names);
        }
        String dump = System.getProperty("conditio.test.heapDump");
        if (!alive.isEmpty() && dump != null) {
            // to see what holds them: -DargLine=-Dconditio.test.heapDump=/tmp/loaders.hprof, then any heap analyser
            java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
                    .dumpHeap(dump, true);
        }
        assertThat(alive).as("plugin class loaders still reachable 20 s after Conditio.close()").isEmpty();
    }

    /** Starts a runtime, generates with the third-party plugin taking part, closes it, keeps weak references only. */
    private static void useAndClose(Path third, List<WeakReference<ClassLoader>> loaders, List<String> names)
            throws Exception {
        try (Conditio conditio = Conditio.start(List.of(TinyFixtures.pluginDir(), third))) {
            try (Pipeline pipeline = conditio.open(TinyFixtures.model("sd-tiny"))) {
                assertThat(pipeline.generate(GenerationRequest.builder().setPrompt("a red circle").optSteps(2)
                        .optSeed(1).build()).images()).hasSize(1);
                assertThat(pipeline.submit(GenerationRequest.builder().setPrompt("a blue square").optSteps(2)
                        .optSeed(2).optScheduler("euler-a").build()).get().images()).hasSize(1);
            }
            for (Conditioner c : conditio.plugins().extensions(Conditioner.class)) {
                keep(c, conditio, loaders, names);
            }
            for (SchedulerProvider p : conditio.plugins().extensions(SchedulerProvider.class)) {
                keep(p, conditio, loaders, names);
            }
        }
    }

    private static void keep(Object extension, Conditio conditio, List<WeakReference<ClassLoader>> loaders,
            List<String> names) {
        ClassLoader l = extension.getClass().getClassLoader();
        if (l != ClassLoaderReleaseTest.class.getClassLoader() && loaders.stream().noneMatch(w -> w.get() == l)) {
            loaders.add(new WeakReference<>(l));
            String origin = conditio.plugins().origin(extension);
            names.add(origin.substring(0, origin.indexOf('@')));
        }
    }

    private static List<String> alive(List<WeakReference<ClassLoader>> loaders, List<String> names) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < loaders.size(); i++) {
            if (loaders.get(i).get() != null) {
                out.add(names.get(i));
            }
        }
        return out;
    }
}
