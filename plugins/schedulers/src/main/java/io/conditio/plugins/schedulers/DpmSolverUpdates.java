package io.conditio.plugins.schedulers;

/**
 * The DPM-Solver updates shared by the multistep and single-step ports, in float32: the first-order step (diffusers'
 * {@code dpm_solver_first_order_update}, equivalent to DDIM; DEIS's first order too) and the coefficients of the
 * second- and third-order updates, which the two ports combine with their own differences of model outputs.
 */
final class DpmSolverUpdates {
    private DpmSolverUpdates() {
    }

    /**
     * The scalar coefficients of one higher-order update, named as in the update formulas: the sample's weight
     * {@code a}, the model output's {@code b}, the first difference's {@code c}, the second difference's {@code d}
     * (third order), the noise's {@code e} (SDE variants; 0 otherwise).
     */
    record Coefficients(float a, float b, float c, float d, float e) {
        /**
         * One element of a second-order update, combined as diffusers does for each {@code algorithm_type}.
         *
         * @param midpoint whether {@code solver_type} is midpoint (else heun; only DPM-Solver++ combines them
         *                 differently)
         * @param x        the sample
         * @param d0       the model output the update starts from
         * @param d1       the first difference of the model outputs
         * @param z        the step's noise for the SDE variants, else unused
         */
        float second(String algorithmType, boolean midpoint, float x, float d0, float d1, float z) {
            return switch (algorithmType) {
                case "dpmsolver++" -> midpoint ? a * x - b * d0 - c * d1 : a * x - b * d0 + c * d1;
                case "dpmsolver" -> a * x - b * d0 - c * d1;
                case "sde-dpmsolver++" -> a * x + b * d0 + c * d1 + e * z;
                default -> a * x - b * d0 - c * d1 + e * z;
            };
        }

        /**
         * One element of a third-order update (not defined for {@code sde-dpmsolver}), combined as diffusers does.
         *
         * @param d2 the second difference of the model outputs; the other arguments as for {@link #second}
         */
        float third(String algorithmType, float x, float d0, float d1, float d2, float z) {
            return switch (algorithmType) {
                case "dpmsolver++" -> a * x - b * d0 + c * d1 - d * d2;
                case "dpmsolver" -> a * x - b * d0 - c * d1 - d * d2;
                default -> a * x + b * d0 + c * d1 + d * d2 + e * z;
            };
        }
    }

    /** @return {@code noise[k]}, or 0 for the ODE variants, which draw none */
    static float noiseAt(float[] noise, int k) {
        return noise != null ? noise[k] : 0f;
    }

    /**
     * The second-order coefficients from {@code start} to {@code t}.
     *
     * @param h        {@code lambda(t) - lambda(start)}
     * @param midpoint whether {@code solver_type} is midpoint (else heun)
     */
    static Coefficients secondOrder(String algorithmType, AlphaSigma t, AlphaSigma start, float h, boolean midpoint) {
        float alphaT = t.alpha();
        float sigmaT = t.sigma();
        return switch (algorithmType) {
            case "dpmsolver++" -> {
                float b = alphaT * (Float32.exp(-h) - 1f);
                float c = midpoint ? 0.5f * b : alphaT * ((Float32.exp(-h) - 1f) / h + 1f);
                yield new Coefficients(sigmaT / start.sigma(), b, c, 0f, 0f);
            }
            case "dpmsolver" -> {
                float b = sigmaT * (Float32.exp(h) - 1f);
                float c = midpoint ? 0.5f * b : sigmaT * ((Float32.exp(h) - 1f) / h - 1f);
                yield new Coefficients(alphaT / start.alpha(), b, c, 0f, 0f);
            }
            case "sde-dpmsolver++" -> {
                float a = sigmaT / start.sigma() * Float32.exp(-h);
                float b = alphaT * (1f - Float32.exp(-2f * h));
                float c = midpoint ? 0.5f * b : alphaT * ((1f - Float32.exp(-2f * h)) / (-2f * h) + 1f);
                yield new Coefficients(a, b, c, 0f, sigmaT * Float32.sqrt(1f - Float32.exp(-2f * h)));
            }
            case "sde-dpmsolver" -> {
                float a = alphaT / start.alpha();
                float b = 2f * (sigmaT * (Float32.exp(h) - 1f));
                float c = midpoint ? sigmaT * (Float32.exp(h) - 1f)
                        : 2f * (sigmaT * ((Float32.exp(h) - 1f) / h - 1f));
                yield new Coefficients(a, b, c, 0f, sigmaT * Float32.sqrt(Float32.exp(2f * h) - 1f));
            }
            default -> throw new IllegalArgumentException("algorithm_type " + algorithmType);
        };
    }

    /**
     * The third-order coefficients from {@code start} to {@code t} (not defined for {@code sde-dpmsolver}).
     *
     * @param h {@code lambda(t) - lambda(start)}
     */
    static Coefficients thirdOrder(String algorithmType, AlphaSigma t, AlphaSigma start, float h) {
        float alphaT = t.alpha();
        float sigmaT = t.sigma();
        return switch (algorithmType) {
            case "dpmsolver++" -> new Coefficients(sigmaT / start.sigma(), alphaT * (Float32.exp(-h) - 1f),
                    alphaT * ((Float32.exp(-h) - 1f) / h + 1f),
                    alphaT * ((Float32.exp(-h) - 1f + h) / (h * h) - 0.5f), 0f);
            case "dpmsolver" -> new Coefficients(alphaT / start.alpha(), sigmaT * (Float32.exp(h) - 1f),
                    sigmaT * ((Float32.exp(h) - 1f) / h - 1f),
                    sigmaT * ((Float32.exp(h) - 1f - h) / (h * h) - 0.5f), 0f);
            case "sde-dpmsolver++" -> {
                float twoH = 2f * h;
                yield new Coefficients(sigmaT / start.sigma() * Float32.exp(-h),
                        alphaT * (1f - Float32.exp(-2f * h)),
                        alphaT * ((1f - Float32.exp(-2f * h)) / (-2f * h) + 1f),
                        alphaT * ((1f - Float32.exp(-2f * h) - 2f * h) / (twoH * twoH) - 0.5f),
                        sigmaT * Float32.sqrt(1f - Float32.exp(-2f * h)));
            }
            default -> throw new IllegalArgumentException("algorithm_type " + algorithmType + " has no third order");
        };
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
    static float[] firstOrder(String algorithmType, float[] m, float[] x, float[] noise, float sigmaFrom,
            float sigmaTo) {
        return firstOrder(algorithmType, m, x, noise, sigmaFrom, sigmaTo, new float[x.length]);
    }

    /**
     * {@link #firstOrder(String, float[], float[], float[], float, float)} written into {@code out}.
     *
     * @return {@code out}
     */
    static float[] firstOrder(String algorithmType, float[] m, float[] x, float[] noise, float sigmaFrom,
            float sigmaTo, float[] out) {
        AlphaSigma t = AlphaSigma.of(sigmaTo);
        AlphaSigma s = AlphaSigma.of(sigmaFrom);
        float alphaT = t.alpha();
        float sigmaT = t.sigma();
        float h = t.lambda() - s.lambda();
        int n = x.length;
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
