package io.conditio.plugins.schedulers;

import java.util.function.DoubleUnaryOperator;

/**
 * {@code scipy.integrate.quad} for the smooth integrands the LMS scheduler needs: QUADPACK's {@code dqags} strategy,
 * starting with one 21-point Gauss–Kronrod rule ({@code dqk21}, with QUADPACK's error estimate and summation order)
 * and bisecting the worst interval until the error bound holds. The LMS integrands are polynomials of degree at most
 * 3, so the first rule is exact up to the rounding of the (float32) integrand and {@code quad} returns after it, as
 * scipy does.
 */
final class GaussKronrodQuadrature {
    private static final double[] XGK = {
        0.995657163025808080735527280689003, 0.973906528517171720077964012084452,
        0.930157491355708226001207180059508, 0.865063366688984510732096688423493,
        0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
        0.562757134668604683339000099272694, 0.433395394129247190799265943165784,
        0.294392862701460198131126603103866, 0.148874338981631210884826001129720,
        0.000000000000000000000000000000000};
    private static final double[] WGK = {
        0.011694638867371874278064396062192, 0.032558162307964727478818972459390,
        0.054755896574351996031381300244580, 0.075039674810919952767043140916190,
        0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
        0.123491976262065851077208980463352, 0.134709217311473325928054001771707,
        0.142775938577060080797094273138717, 0.147739104901338491374841515972068,
        0.149445554002916905664936468389821};
    private static final double[] WG = {
        0.066671344308688137593568809893332, 0.149451349150580593145776339657697,
        0.219086362515982043995534934228163, 0.269266719309996355091226921569469,
        0.295524224714752870173892994651146};
    private static final double EPMACH = Math.ulp(1.0);
    private static final double UFLOW = Double.MIN_NORMAL;
    /** scipy's default {@code epsabs}. */
    static final double DEFAULT_EPSABS = 1.49e-8;
    private static final int LIMIT = 50;

    private GaussKronrodQuadrature() {
    }

    /** One {@code dqk21} evaluation: {result, abserr, resabs, resasc}. */
    static double[] qk21(DoubleUnaryOperator f, double a, double b) {
        double centr = 0.5 * (a + b);
        double hlgth = 0.5 * (b - a);
        double dhlgth = Math.abs(hlgth);
        double resg = 0;
        double fc = f.applyAsDouble(centr);
        double resk = WGK[10] * fc;
        double resabs = Math.abs(resk);
        double[] fv1 = new double[10];
        double[] fv2 = new double[10];
        for (int j = 1; j <= 5; j++) {
            int jtw = 2 * j - 1; // Fortran's jtw = 2j, zero-based
            double absc = hlgth * XGK[jtw];
            double fval1 = f.applyAsDouble(centr - absc);
            double fval2 = f.applyAsDouble(centr + absc);
            fv1[jtw] = fval1;
            fv2[jtw] = fval2;
            double fsum = fval1 + fval2;
            resg = resg + WG[j - 1] * fsum;
            resk = resk + WGK[jtw] * fsum;
            resabs = resabs + WGK[jtw] * (Math.abs(fval1) + Math.abs(fval2));
        }
        for (int j = 1; j <= 5; j++) {
            int jtwm1 = 2 * j - 2; // Fortran's jtwm1 = 2j - 1, zero-based
            double absc = hlgth * XGK[jtwm1];
            double fval1 = f.applyAsDouble(centr - absc);
            double fval2 = f.applyAsDouble(centr + absc);
            fv1[jtwm1] = fval1;
            fv2[jtwm1] = fval2;
            double fsum = fval1 + fval2;
            resk = resk + WGK[jtwm1] * fsum;
            resabs = resabs + WGK[jtwm1] * (Math.abs(fval1) + Math.abs(fval2));
        }
        double reskh = resk * 0.5;
        double resasc = WGK[10] * Math.abs(fc - reskh);
        for (int j = 0; j < 10; j++) {
            resasc = resasc + WGK[j] * (Math.abs(fv1[j] - reskh) + Math.abs(fv2[j] - reskh));
        }
        double result = resk * hlgth;
        resabs = resabs * dhlgth;
        resasc = resasc * dhlgth;
        double abserr = Math.abs((resk - resg) * hlgth);
        if (resasc != 0 && abserr != 0) {
            abserr = resasc * Math.min(1, Math.pow(200 * abserr / resasc, 1.5));
        }
        if (resabs > UFLOW / (50 * EPMACH)) {
            abserr = Math.max(EPMACH * 50 * resabs, abserr);
        }
        return new double[] {result, abserr, resabs, resasc};
    }

    /**
     * Integrates {@code f} over [a, b] to {@code max(epsabs, epsrel * |result|)}.
     *
     * @return the integral
     */
    static double integrate(DoubleUnaryOperator f, double a, double b, double epsabs, double epsrel) {
        double[] first = qk21(f, a, b);
        double result = first[0];
        double abserr = first[1];
        double errbnd = Math.max(epsabs, epsrel * Math.abs(result));
        if ((abserr <= errbnd && abserr != first[2]) || abserr == 0) {
            return result;
        }
        // adaptive bisection of the interval with the largest error (dqags without the epsilon extrapolation,
        // which the polynomial integrands here never reach)
        double[] lo = new double[LIMIT];
        double[] hi = new double[LIMIT];
        double[] res = new double[LIMIT];
        double[] err = new double[LIMIT];
        lo[0] = a;
        hi[0] = b;
        res[0] = result;
        err[0] = abserr;
        int last = 1;
        while (last < LIMIT) {
            int worst = 0;
            for (int i = 1; i < last; i++) {
                if (err[i] > err[worst]) {
                    worst = i;
                }
            }
            double mid = 0.5 * (lo[worst] + hi[worst]);
            double[] left = qk21(f, lo[worst], mid);
            double[] right = qk21(f, mid, hi[worst]);
            lo[last] = mid;
            hi[last] = hi[worst];
            res[last] = right[0];
            err[last] = right[1];
            hi[worst] = mid;
            res[worst] = left[0];
            err[worst] = left[1];
            last++;
            double total = 0;
            double totalErr = 0;
            for (int i = 0; i < last; i++) {
                total += res[i];
                totalErr += err[i];
            }
            result = total;
            if (totalErr <= Math.max(epsabs, epsrel * Math.abs(total))) {
                break;
            }
        }
        return result;
    }
}
