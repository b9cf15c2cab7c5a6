package io.conditio.server;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A1111 sampler and schedule-type names and the Conditio schedulers they run as. Only samplers whose algorithm
 * Conditio has are offered; a Karras or exponential schedule becomes the scheduler's {@code use_karras_sigmas} /
 * {@code use_exponential_sigmas} where that scheduler supports it.
 */
final class Samplers {
    /** One A1111 sampler. */
    record Sampler(String name, List<String> aliases, String preset, String karrasPreset, boolean sigmaSchedules) {
    }

    static final List<Sampler> ALL = List.of(
            new Sampler("Euler a", List.of("k_euler_a", "k_euler_ancestral"), "euler-a", null, false),
            new Sampler("Euler", List.of("k_euler"), "euler", null, true),
            new Sampler("LMS", List.of("k_lms"), "lms", null, true),
            new Sampler("Heun", List.of("k_heun"), "heun", null, true),
            new Sampler("DPM2", List.of("k_dpm_2"), "kdpm2", null, true),
            new Sampler("DPM2 a", List.of("k_dpm_2_a"), "kdpm2-a", null, true),
            new Sampler("DPM++ 2M", List.of("k_dpmpp_2m"), "dpm++2m", "dpm++2m-karras", true),
            new Sampler("DPM++ 2M SDE", List.of("k_dpmpp_2m_sde"), "dpm++2m-sde", "dpm++2m-sde-karras", true),
            new Sampler("DDIM", List.of("ddim"), "ddim", null, false),
            new Sampler("PLMS", List.of("plms"), "pndm", null, false),
            new Sampler("UniPC", List.of("unipc"), "unipc", null, true),
            new Sampler("DEIS", List.of("deis"), "deis", null, true),
            new Sampler("DDPM", List.of("ddpm"), "ddpm", null, false),
            new Sampler("LCM", List.of("k_lcm"), "lcm", null, false));

    /** Schedule types: A1111 name → label. */
    static final Map<String, String> SCHEDULES = new LinkedHashMap<>();

    static {
        SCHEDULES.put("automatic", "Automatic");
        SCHEDULES.put("uniform", "Uniform");
        SCHEDULES.put("karras", "Karras");
        SCHEDULES.put("exponential", "Exponential");
    }

    private Samplers() {
    }

    /**
     * @param given a sampler name or alias as clients send it, possibly with " Karras" appended
     * @return the sampler, or null when Conditio has none by that name
     */
    static Sampler find(String given) {
        String g = base(given).toLowerCase(Locale.ROOT);
        for (Sampler s : ALL) {
            if (s.name().toLowerCase(Locale.ROOT).equals(g) || s.aliases().contains(g)) {
                return s;
            }
        }
        return null;
    }

    /** @return the name without a " Karras" or " Exponential" suffix */
    static String base(String given) {
        String t = given.strip();
        for (String suffix : List.of(" Karras", " Exponential")) {
            if (t.toLowerCase(Locale.ROOT).endsWith(suffix.toLowerCase(Locale.ROOT))) {
                return t.substring(0, t.length() - suffix.length());
            }
        }
        return t;
    }

    /** @return "karras", "exponential" or null, from a suffixed sampler name */
    static String suffixSchedule(String given) {
        String t = given.strip().toLowerCase(Locale.ROOT);
        if (t.endsWith(" karras")) {
            return "karras";
        }
        if (t.endsWith(" exponential")) {
            return "exponential";
        }
        return null;
    }
}
