package io.conditio.plugins.schedulers;

/**
 * The first-order step of the exponential-integrator solvers, diffusers' {@code dpm_solver_first_order_update}
 * (equivalent to DDIM), in float32: one place for DPM-Solver multistep and single-step and DEIS, whose first order
 * is DPM-Solver's.
 */
final class DpmSolverFirstOrder {
    private DpmSolverFirstOrder() {
    }

    /**
     * One step from {@code sigmaFrom} to {@code sigmaTo}.
     *
     * @param algorithmType {@code dpmsolver++} and {@code dpmsolver} (ODE; m is x0 or epsilon), {@code sde-dpmsolver++}
     *                      and {@code sde-dpmsolver} (SDE; {@code noise} is the step's draw)
     * @param m             the converted model output
     * @param x             the sample at {@code sigmaFrom}
     * @param noise         standard normal noise for the SDE variants, else unused (may be null)
     * @return the sample at {@code sigmaTo}, a new array
     */
    static float[] update(String algorithmType, float[] m, float[] x, float[] noise, float sigmaFrom,
            float sigmaTo) {
        AlphaSigma t = AlphaSigma.of(sigmaTo);
        AlphaSigma s = AlphaSigma.of(sigmaFrom);
        float alphaT = t.alpha();
        float sigmaT = t.sigma();
        float h = t.lambda() - s.lambda();
        int n = x.length;
        float[] out = new float[n];
        switch (algorithmType) {
            case "dpmsolver++" -> {
                float a = sigmaT / s.sigma();
                float b = alphaT * (Float32.exp(-h) - 1f);
                for (int k = 0; k < n; k++) {
                    out[k] = a * x[k] - b * m[k];
                }
            }
            case "dpmsolver" -> {
                float a = alphaT / s.alpha();
                float b = sigmaT * (Float32.exp(h) - 1f);
                for (int k = 0; k < n; k++) {
                    out[k] = a * x[k] - b * m[k];
                }
            }
            case "sde-dpmsolver++" -> {
                float a = sigmaT / s.sigma() * Float32.exp(-h);
                float b = alphaT * (1f - Float32.exp(-2f * h));
                float c = sigmaT * Float32.sqrt(1f - Float32.exp(-2f * h));
                for (int k = 0; k < n; k++) {
                    out[k] = a * x[k] + b * m[k] + c * noise[k];
                }
            }
            case "sde-dpmsolver" -> {
                float a = alphaT / s.alpha();
                float b = 2f * (sigmaT * (Float32.exp(h) - 1f));
                float c = sigmaT * Float32.sqrt(Float32.exp(2f * h) - 1f);
                for (int k = 0; k < n; k++) {
                    out[k] = a * x[k] - b * m[k] + c * noise[k];
                }
            }
            default -> throw new IllegalArgumentException("algorithm_type " + algorithmType);
        }
        return out;
    }
}
