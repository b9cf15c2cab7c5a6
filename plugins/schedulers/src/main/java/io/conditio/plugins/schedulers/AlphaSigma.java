package io.conditio.plugins.schedulers;

/**
 * A noise level in the variance-preserving form the exponential-integrator solvers (DPM-Solver, UniPC, DEIS) step in:
 * diffusers' {@code _sigma_to_alpha_sigma_t}, {@code alpha_t = 1 / sqrt(sigma^2 + 1)} and
 * {@code sigma_t = sigma * alpha_t}, in float32.
 *
 * @param alpha the signal scale {@code alpha_t}
 * @param sigma the noise scale {@code sigma_t} (not the k-diffusion sigma it was made from)
 */
record AlphaSigma(float alpha, float sigma) {

    /** @return {@code alpha_t} and {@code sigma_t} of the k-diffusion noise level {@code sigma} */
    static AlphaSigma of(float sigma) {
        float alpha = Sigmas.vpAlpha(sigma);
        return new AlphaSigma(alpha, sigma * alpha);
    }

    /** @return the half log-SNR {@code lambda_t = log(alpha_t) - log(sigma_t)}, in float32 */
    float lambda() {
        return Sigmas.lambda(alpha, sigma);
    }

    /** @return DEIS's {@code rho_t = sigma_t / alpha_t}, in float32 */
    float rho() {
        return sigma / alpha;
    }
}
