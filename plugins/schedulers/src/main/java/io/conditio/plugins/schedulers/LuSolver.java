package io.conditio.plugins.schedulers;

/**
 * {@code torch.linalg.solve} for the small float32 systems of UniPC: LAPACK's {@code sgesv} recipe, LU with partial
 * pivoting (first largest pivot, multipliers formed with the pivot's reciprocal as {@code sgetrf2} does), then the
 * column-oriented unit-lower and upper triangular solves of the reference {@code strsm}.
 */
final class LuSolver {
    private LuSolver() {
    }

    /**
     * Solves {@code a x = b}.
     *
     * @param a an n-by-n matrix, row-major; not modified
     * @param b the right-hand side; not modified
     * @return x
     */
    static float[] solve(float[][] a, float[] b) {
        int n = b.length;
        float[][] lu = new float[n][];
        for (int i = 0; i < n; i++) {
            lu[i] = a[i].clone();
        }
        float[] x = b.clone();
        for (int k = 0; k < n; k++) {
            int p = k;
            for (int i = k + 1; i < n; i++) {
                if (Math.abs(lu[i][k]) > Math.abs(lu[p][k])) {
                    p = i;
                }
            }
            if (p != k) {
                float[] row = lu[p];
                lu[p] = lu[k];
                lu[k] = row;
                float t = x[p];
                x[p] = x[k];
                x[k] = t;
            }
            float pivot = lu[k][k];
            if (pivot == 0f) {
                throw new ArithmeticException("singular matrix in UniPC coefficient solve");
            }
            float reciprocal = 1f / pivot;
            for (int i = k + 1; i < n; i++) {
                lu[i][k] = lu[i][k] * reciprocal;
            }
            for (int j = k + 1; j < n; j++) {
                for (int i = k + 1; i < n; i++) {
                    lu[i][j] = lu[i][j] - lu[i][k] * lu[k][j];
                }
            }
        }
        // L y = P b (unit diagonal)
        for (int k = 0; k < n; k++) {
            if (x[k] != 0f) {
                for (int i = k + 1; i < n; i++) {
                    x[i] = x[i] - x[k] * lu[i][k];
                }
            }
        }
        // U x = y
        for (int k = n - 1; k >= 0; k--) {
            if (x[k] != 0f) {
                x[k] = x[k] / lu[k][k];
                for (int i = 0; i < k; i++) {
                    x[i] = x[i] - x[k] * lu[i][k];
                }
            }
        }
        return x;
    }
}
