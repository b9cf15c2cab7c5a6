package io.conditio.it;

/** Sources of the extensions that tests compile into plugins with {@link PluginJars} or {@link DevPlugins}. */
final class PluginSources {
    private PluginSources() {
    }

    /**
     * @param provider  the provider's class name, in package {@code example}
     * @param scheduler the one scheduler class name it provides
     * @param presets   a Java expression of its {@code List<SchedulerPreset>}
     * @param create    the statements of its {@code create(SchedulerConfig config)}
     * @return the source of a scheduler provider
     */
    static String schedulerProvider(String provider, String scheduler, String presets, String create) {
        return """
                package example;
                import io.conditio.api.*;
                import java.util.List;
                import java.util.Map;
                import org.pf4j.Extension;
                @Extension
                public class %s implements SchedulerProvider {
                    public List<String> classNames() {
                        return List.of("%s");
                    }
                    public List<SchedulerPreset> presets() {
                        return %s;
                    }
                    public Scheduler create(SchedulerConfig config) {
                        %s
                    }
                }
                """.formatted(provider, scheduler, presets, create);
    }

    /**
     * @param step the statements of its {@code step(FloatTensor out, float t, FloatTensor sample, RandomSource
     *             random)}
     * @return statements for {@link #schedulerProvider}'s {@code create}: a scheduler of the timesteps 999 and 499
     *         that does not scale its input, adds no noise, and steps as {@code step} says
     */
    static String twoStepScheduler(String step) {
        return """
                return new Scheduler() {
                    public void setTimesteps(int n) {
                    }
                    public float[] timesteps() {
                        return new float[] {999f, 499f};
                    }
                    public float initNoiseSigma() {
                        return 1f;
                    }
                    public int order() {
                        return 1;
                    }
                    public FloatTensor scaleModelInput(FloatTensor sample, float t) {
                        return sample;
                    }
                    public FloatTensor step(FloatTensor out, float t, FloatTensor sample, RandomSource random) {
                        %s
                    }
                    public FloatTensor addNoise(FloatTensor original, FloatTensor noise, float t) {
                        return original;
                    }
                    public SchedulerConfig config() {
                        return config;
                    }
                };
                """.formatted(step);
    }

    /**
     * @param className   the extension's class name, in package {@code example}
     * @param implemented the extension point it implements
     * @param id          its {@code id()}
     * @param members     the rest of its body
     * @return the source of an extension with an id, importing the api, {@code List} and {@code Optional}
     */
    static String extension(String className, String implemented, String id, String members) {
        return """
                package example;

                import io.conditio.api.*;
                import java.util.List;
                import java.util.Optional;
                import org.pf4j.Extension;

                @Extension
                public final class CLASS implements POINT {
                    public String id() {
                        return "ID";
                    }

                """.replace("CLASS", className).replace("POINT", implemented).replace("ID", id) + members + "}\n";
    }

    /**
     * @param className the provider's class name, in package {@code example}
     * @param id        its {@code id()}
     * @param members   the rest of its body: {@code parameters()} where it declares any, {@code create(...)} and
     *                  helpers
     * @return the source of a guidance provider
     */
    static String guidanceProvider(String className, String id, String members) {
        return extension(className, "GuidanceProvider", id, members);
    }
}
