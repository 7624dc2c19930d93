/* The exported GEMM symbols of libmatmul_blas, called as a C or Fortran program calls them.
 *
 * Every transpose combination (in both cases of letters), padded leading dimensions, the
 * alpha/beta special cases (beta = 0 with NaN in C, alpha = 0 with NaN in A and B, the
 * beta = 1 quick return), both CBLAS orders, and every invalid argument: the position the
 * error handler receives must be the reference BLAS's, and C must stay untouched.
 *
 * This program defines its own xerbla_ and cblas_xerbla, as the reference test programs
 * do; linked with -rdynamic they are the ones the library calls.
 *
 * MKL's batch GEMMs (strided and grouped) are checked exactly on small integers, with NaN
 * in every gap between the products' C, and their bad arguments likewise.
 *
 * Build and run: see tests/run.sh. Prints "N checks passed, M failed"; exits 1 on failure. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sgemm_(const char *, const char *, const int *, const int *, const int *, const float *, const float *,
            const int *, const float *, const int *, const float *, float *, const int *, size_t, size_t);
void dgemm_(const char *, const char *, const int *, const int *, const int *, const double *, const double *,
            const int *, const double *, const int *, const double *, double *, const int *, size_t, size_t);
void cblas_sgemm(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int);
void cblas_dgemm(int, int, int, int, int, int, double, const double *, int, const double *, int, double, double *,
                 int);

/* MKL's mixed-precision GEMM: A and B bfloat16 (the top 16 bits of a float), C float. */
void cblas_gemm_bf16bf16f32(int, int, int, int, int, int, float, const uint16_t *, int, const uint16_t *, int, float,
                            float *, int);

/* MKL's batch GEMMs: strided (one shape, operands a stride apart) and grouped. */
void cblas_dgemm_batch_strided(int, int, int, int, int, int, double, const double *, int, int, const double *, int, int,
                               double, double *, int, int, int);
void cblas_sgemm_batch_strided(int, int, int, int, int, int, float, const float *, int, int, const float *, int, int,
                               float, float *, int, int, int);
void cblas_dgemm_batch(int, const int *, const int *, const int *, const int *, const int *, const double *,
                       const double **, const int *, const double **, const int *, const double *, double **,
                       const int *, int, const int *);
void cblas_sgemm_batch(int, const int *, const int *, const int *, const int *, const int *, const float *,
                       const float **, const int *, const float **, const int *, const float *, float **, const int *,
                       int, const int *);

enum { ROW = 101, COL = 102, NOT = 111, TR = 112, CONJ = 113 };

static int passed, failed;
static void check(int ok, const char *what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s\n", what);
    }
}

/* The error handlers: record what the library reported. */
static int last_info;
static char last_name[32];
void xerbla_(const char *name, const int *info, size_t len) {
    last_info = *info;
    size_t n = len < sizeof last_name - 1 ? len : sizeof last_name - 1;
    memcpy(last_name, name, n);
    last_name[n] = 0;
}
void cblas_xerbla(int p, const char *rout, const char *form, ...) {
    (void)form;
    last_info = p;
    snprintf(last_name, sizeof last_name, "%s", rout);
}

static double frand(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return ((*s >> 8) & 0xffff) / 32768.0 - 1.0;
}

/* op(X)[i][j] of a stored matrix: column-major (ld between columns) or row-major. */
static double at(const double *x, int trans, int colmajor, int ld, int i, int j) {
    if (trans) { int t = i; i = j; j = t; }
    return colmajor ? x[i + (size_t)j * ld] : x[(size_t)i * ld + j];
}

/* One product in both precisions through the given entry point, checked entrywise
 * against a double-precision reference with the bound gamma_{k+2} * (|alpha||A||B| + |beta||C|). */
static void product(const char *api, int colmajor, char ta, char tb, int m, int n, int k, int pad, double alpha,
                    double beta, int nan_c, unsigned seed) {
    int tA = ta != 'N' && ta != 'n', tB = tb != 'N' && tb != 'n';
    int ra = colmajor ? (tA ? k : m) : (tA ? k : m), ca = tA ? m : k; /* stored A: ra x ca */
    int rb = tB ? n : k, cb = tB ? k : n;
    int lda = (colmajor ? ra : ca) + pad, ldb = (colmajor ? rb : cb) + pad, ldc = (colmajor ? m : n) + pad;
    size_t na = (size_t)lda * (colmajor ? ca : ra) + 1, nb = (size_t)ldb * (colmajor ? cb : rb) + 1,
           nc = (size_t)ldc * (colmajor ? n : m) + 1;
    double *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c0 = malloc(nc * sizeof *c0);
    float *af = malloc(na * sizeof *af), *bf = malloc(nb * sizeof *bf), *cf = malloc(nc * sizeof *cf);
    double *cd = malloc(nc * sizeof *cd);
    for (size_t i = 0; i < na; i++) af[i] = (float)(a[i] = frand(&seed));
    for (size_t i = 0; i < nb; i++) bf[i] = (float)(b[i] = frand(&seed));
    for (size_t i = 0; i < nc; i++) c0[i] = nan_c ? NAN : frand(&seed);
    /* Padding between columns (or rows) of C is NaN: written padding shows up as a change. */
    for (size_t i = 0; i < nc; i++) { cd[i] = c0[i]; cf[i] = (float)c0[i]; }
    float alf = (float)alpha, bef = (float)beta;
    if (!strcmp(api, "fortran")) {
        dgemm_(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, cd, &ldc, 1, 1);
        sgemm_(&ta, &tb, &m, &n, &k, &alf, af, &lda, bf, &ldb, &bef, cf, &ldc, 1, 1);
    } else {
        int o = colmajor ? COL : ROW, a_t = tA ? (ta == 'C' || ta == 'c' ? CONJ : TR) : NOT,
            b_t = tB ? (tb == 'C' || tb == 'c' ? CONJ : TR) : NOT;
        cblas_dgemm(o, a_t, b_t, m, n, k, alpha, a, lda, b, ldb, beta, cd, ldc);
        cblas_sgemm(o, a_t, b_t, m, n, k, alf, af, lda, bf, ldb, bef, cf, ldc);
    }
    int bad_d = 0, bad_f = 0, stray = 0;
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double s = 0, sa = 0;
            for (int p = 0; p < k; p++) {
                double x = at(a, tA, colmajor, lda, i, p) * at(b, tB, colmajor, ldb, p, j);
                s += x;
                sa += fabs(x);
            }
            size_t ic = colmajor ? i + (size_t)j * ldc : (size_t)i * ldc + j;
            double old = beta == 0 ? 0 : c0[ic];
            double want = (alpha == 0 ? 0 : alpha * s) + beta * old;
            double mag = (alpha == 0 ? 0 : fabs(alpha) * sa) + fabs(beta * old);
            double gd = (k + 2) * 1.2e-16, gf = (k + 2) * 6.0e-8;
            if (!(fabs(cd[ic] - want) <= gd * mag + 1e-300)) bad_d++;
            if (!(fabs(cf[ic] - want) <= gf * mag * 1.01 + 1e-30)) bad_f++;
        }
    }
    /* Elements outside C (padding, the extra last one) are bit-identical to before. */
    for (size_t idx = 0; idx < nc; idx++) {
        size_t i = colmajor ? idx % ldc : idx / ldc, j = colmajor ? idx / ldc : idx % ldc;
        int inside = idx < nc - 1 && (colmajor ? (i < (size_t)m && j < (size_t)n) : (i < (size_t)m && j < (size_t)n));
        if (!inside && memcmp(&cd[idx], &c0[idx], sizeof(double)) != 0) stray++;
    }
    char what[160];
    snprintf(what, sizeof what, "%s %s ta=%c tb=%c m=%d n=%d k=%d pad=%d alpha=%g beta=%g%s: %d/%d wrong (d/s), %d stray",
             api, colmajor ? "col" : "row", ta, tb, m, n, k, pad, alpha, beta, nan_c ? " C=NaN" : "", bad_d, bad_f,
             stray);
    check(bad_d == 0 && bad_f == 0 && stray == 0, what);
    free(a); free(b); free(c0); free(af); free(bf); free(cf); free(cd);
}

/* alpha = 0 must not read A or B (NaN there); beta = 1 then is a quick return; k = 0 and
 * beta = 0 writes zeros over NaN. */
static void special_cases(void) {
    double nan = NAN, one = 1, zero = 0, two = 2;
    double a[6] = {nan, nan, nan, nan, nan, nan}, c[4] = {1, 2, 3, 4};
    int one_i = 1, two_i = 2, three = 3, zero_i = 0;
    dgemm_("N", "N", &two_i, &two_i, &three, &zero, a, &two_i, a, &three, &two, c, &two_i, 1, 1);
    check(c[0] == 2 && c[3] == 8, "alpha = 0: C = beta * C, A and B not read");
    dgemm_("N", "N", &two_i, &two_i, &three, &zero, a, &two_i, a, &three, &one, c, &two_i, 1, 1);
    check(c[0] == 2 && c[3] == 8, "alpha = 0, beta = 1: quick return");
    double cn[4] = {nan, nan, nan, nan};
    dgemm_("N", "N", &two_i, &two_i, &zero_i, &one, NULL, &two_i, NULL, &one_i, &zero, cn, &two_i, 1, 1);
    check(cn[0] == 0 && cn[3] == 0, "k = 0, beta = 0: zeros over NaN, A and B not read");
    cblas_dgemm(COL, NOT, NOT, 2, 2, 3, 0.0, a, 2, a, 3, 1.0, c, 2);
    check(c[0] == 2 && c[3] == 8, "cblas alpha = 0, beta = 1: quick return");
    /* m = 0: nothing happens, even with NULL pointers everywhere. */
    dgemm_("N", "N", &zero_i, &two_i, &three, &one, NULL, &one_i, NULL, &three, &one, NULL, &one_i, 1, 1);
    check(1, "m = 0 with NULL pointers");
}

/* Each invalid argument, in the reference order: the handler gets the routine and the
 * position, and C is untouched. */
static void expect_error(const char *what, const char *routine, int position) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s: reported %s parameter %d, expected %s parameter %d", what, last_name, last_info,
             routine, position);
    check(last_info == position && strncmp(last_name, routine, strlen(routine)) == 0, msg);
    last_info = 0;
    last_name[0] = 0;
}

static void errors(void) {
    double a[64] = {0}, b[64] = {0}, c[64], c_before[64];
    for (int i = 0; i < 64; i++) c[i] = c_before[i] = i;
    double one = 1;
    int m = 3, n = 4, k = 5, neg = -1, lda = 3, ldb = 5, ldc = 3, small = 2;
    struct { const char *ta, *tb; int *m, *n, *k, *lda, *ldb, *ldc; int position; const char *what; } f[] = {
        {"X", "N", &m, &n, &k, &lda, &ldb, &ldc, 1, "TRANSA = X"},
        {"N", "Y", &m, &n, &k, &lda, &ldb, &ldc, 2, "TRANSB = Y"},
        {"N", "N", &neg, &n, &k, &lda, &ldb, &ldc, 3, "M < 0"},
        {"N", "N", &m, &neg, &k, &lda, &ldb, &ldc, 4, "N < 0"},
        {"N", "N", &m, &n, &neg, &lda, &ldb, &ldc, 5, "K < 0"},
        {"N", "N", &m, &n, &k, &small, &ldb, &ldc, 8, "LDA < M"},
        {"T", "N", &m, &n, &k, &lda, &ldb, &ldc, 8, "LDA < K (TRANSA = T)"},
        {"N", "N", &m, &n, &k, &lda, &small, &ldc, 10, "LDB < K"},
        {"N", "n", &m, &n, &k, &lda, &ldb, &small, 13, "LDC < M"},
        {"X", "Y", &neg, &neg, &neg, &small, &small, &small, 1, "all bad: TRANSA first"},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        dgemm_(f[i].ta, f[i].tb, f[i].m, f[i].n, f[i].k, &one, a, f[i].lda, b, f[i].ldb, &one, c, f[i].ldc, 1, 1);
        expect_error(f[i].what, "DGEMM", f[i].position);
        float af[64] = {0}, bf[64] = {0}, cf[64] = {0}, onef = 1;
        sgemm_(f[i].ta, f[i].tb, f[i].m, f[i].n, f[i].k, &onef, af, f[i].lda, bf, f[i].ldb, &onef, cf, f[i].ldc, 1, 1);
        expect_error(f[i].what, "SGEMM", f[i].position);
    }
    struct { int order, ta, tb, m, n, k, lda, ldb, ldc, position; const char *what; } cb[] = {
        {0, NOT, NOT, 3, 4, 5, 3, 5, 3, 1, "cblas order"},
        {COL, 0, NOT, 3, 4, 5, 3, 5, 3, 2, "cblas TransA"},
        {COL, NOT, 1, 3, 4, 5, 3, 5, 3, 3, "cblas TransB"},
        {COL, NOT, NOT, -1, 4, 5, 3, 5, 3, 4, "cblas col M < 0"},
        {COL, NOT, NOT, 3, -1, 5, 3, 5, 3, 5, "cblas col N < 0"},
        {COL, NOT, NOT, 3, 4, -1, 3, 5, 3, 6, "cblas col K < 0"},
        {COL, NOT, NOT, 3, 4, 5, 2, 5, 3, 9, "cblas col lda < M"},
        {COL, NOT, NOT, 3, 4, 5, 3, 4, 3, 11, "cblas col ldb < K"},
        {COL, NOT, NOT, 3, 4, 5, 3, 5, 2, 14, "cblas col ldc < M"},
        {ROW, NOT, NOT, -1, -1, 5, 5, 4, 4, 5, "cblas row: N is checked before M"},
        {ROW, NOT, NOT, 3, 4, 5, 4, 4, 4, 9, "cblas row lda < K"},
        {ROW, NOT, NOT, 3, 4, 5, 5, 3, 4, 11, "cblas row ldb < N"},
        {ROW, TR, NOT, 3, 4, 5, 2, 4, 4, 9, "cblas row lda < M (TransA)"},
        {ROW, NOT, NOT, 3, 4, 5, 5, 4, 3, 14, "cblas row ldc < N"},
    };
    for (size_t i = 0; i < sizeof cb / sizeof cb[0]; i++) {
        cblas_dgemm(cb[i].order, cb[i].ta, cb[i].tb, cb[i].m, cb[i].n, cb[i].k, 1.0, a, cb[i].lda, b, cb[i].ldb, 1.0, c,
                    cb[i].ldc);
        expect_error(cb[i].what, "cblas_dgemm", cb[i].position);
        float af[64] = {0}, bf[64] = {0}, cf[64] = {0};
        cblas_sgemm(cb[i].order, cb[i].ta, cb[i].tb, cb[i].m, cb[i].n, cb[i].k, 1.0f, af, cb[i].lda, bf, cb[i].ldb,
                    1.0f, cf, cb[i].ldc);
        expect_error(cb[i].what, "cblas_sgemm", cb[i].position);
    }
    check(memcmp(c, c_before, sizeof c) == 0, "C untouched by every rejected call");
}

/* cblas_gemm_bf16bf16f32 in both orders and every transpose pair, with padded leading
 * dimensions: small integers and halves, exact in bf16, whose products and sums are exact
 * in float, so the result must equal the double-precision one bit for bit. Then one bad
 * argument of each kind the checks share with cblas_sgemm. */
static uint16_t to_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return (uint16_t)(u >> 16); /* exact: the values below have at most 8 significant bits */
}
static void bf16_products(void) {
    enum { M = 5, N = 4, K = 7, PAD = 2, CAP = 64 };
    for (int order = ROW; order <= COL; order++) {
        for (int ta = NOT; ta <= TR; ta++) {
            for (int tb = NOT; tb <= TR; tb++) {
                /* op(A) is M x K, op(B) K x N; stored as rows x cols of the stored matrix. */
                int ar = ta == NOT ? M : K, ac = ta == NOT ? K : M, br = tb == NOT ? K : N, bc = tb == NOT ? N : K;
                int lda = (order == ROW ? ac : ar) + PAD, ldb = (order == ROW ? bc : br) + PAD;
                int ldc = (order == ROW ? N : M) + PAD;
                uint16_t a[CAP], b[CAP];
                float c[CAP], want[M][N];
                for (int i = 0; i < CAP; i++) a[i] = b[i] = to_bf16(NAN), c[i] = NAN;
                float av[M][K], bv[K][N];
                for (int i = 0; i < M; i++)
                    for (int p = 0; p < K; p++) av[i][p] = (float)((i * 3 + p * 5) % 7 - 3) * 0.5f;
                for (int p = 0; p < K; p++)
                    for (int j = 0; j < N; j++) bv[p][j] = (float)((p * 2 + j * 3) % 5 - 2);
                for (int i = 0; i < M; i++) {
                    for (int p = 0; p < K; p++) {
                        int r = ta == NOT ? i : p, q = ta == NOT ? p : i;
                        a[order == ROW ? r * lda + q : q * lda + r] = to_bf16(av[i][p]);
                    }
                }
                for (int p = 0; p < K; p++) {
                    for (int j = 0; j < N; j++) {
                        int r = tb == NOT ? p : j, q = tb == NOT ? j : p;
                        b[order == ROW ? r * ldb + q : q * ldb + r] = to_bf16(bv[p][j]);
                    }
                }
                for (int i = 0; i < M; i++) {
                    for (int j = 0; j < N; j++) {
                        double s = 0;
                        for (int p = 0; p < K; p++) s += (double)av[i][p] * bv[p][j];
                        c[order == ROW ? i * ldc + j : j * ldc + i] = (float)(i - j);
                        want[i][j] = (float)(2.0 * s - (double)(i - j));
                    }
                }
                (void)ar, (void)ac, (void)br, (void)bc;
                cblas_gemm_bf16bf16f32(order, ta, tb, M, N, K, 2.0f, a, lda, b, ldb, -1.0f, c, ldc);
                int wrong = 0, stray = 0;
                for (int i = 0; i < M; i++)
                    for (int j = 0; j < N; j++) wrong += c[order == ROW ? i * ldc + j : j * ldc + i] != want[i][j];
                for (int x = 0; x < CAP; x++) {
                    int i = order == ROW ? x / ldc : x % ldc, j = order == ROW ? x % ldc : x / ldc;
                    if (!(i < M && j < N)) stray += !isnan(c[x]);
                }
                char msg[128];
                snprintf(msg, sizeof msg, "cblas_gemm_bf16bf16f32 order %d trans %d %d: %d wrong, %d stray writes", order,
                         ta, tb, wrong, stray);
                check(wrong == 0 && stray == 0, msg);
            }
        }
    }
    uint16_t one[4] = {0x3f80, 0x3f80, 0x3f80, 0x3f80};
    float c[4] = {7, 7, 7, 7};
    cblas_gemm_bf16bf16f32(99, NOT, NOT, 2, 2, 2, 1.0f, one, 2, one, 2, 0.0f, c, 2);
    expect_error("bf16 bad order", "cblas_gemm_bf16bf16f32", 1);
    cblas_gemm_bf16bf16f32(COL, NOT, NOT, 2, 2, 2, 1.0f, one, 1, one, 2, 0.0f, c, 2);
    expect_error("bf16 lda < m", "cblas_gemm_bf16bf16f32", 9);
    check(c[0] == 7 && c[3] == 7, "bf16: C untouched by rejected calls");
    cblas_gemm_bf16bf16f32(COL, NOT, NOT, 2, 2, 2, 1.0f, one, 2, one, 2, 0.0f, c, 2);
    check(c[0] == 2 && c[3] == 2, "bf16: ones times ones");
}


/* Element (i, j) of op(X) for a stored matrix in CBLAS order `order` with transpose `t`. */
static double op_at(const double *x, int order, int t, int ld, int i, int j) {
    return at(x, t != NOT, order == COL, ld, i, j);
}

/* The expected C of one product (small integers: exact in any order of summation). */
static double expected(int order, int ta, int tb, int k, double alpha, const double *a, int lda, const double *b,
                       int ldb, double beta, double c0, int i, int j) {
    double s = 0;
    for (int p = 0; p < k; p++) s += op_at(a, order, ta, lda, i, p) * op_at(b, order, tb, ldb, p, j);
    return alpha * s + beta * c0;
}

/* cblas_?gemm_batch_strided in both orders and transposes, padded leading dimensions,
 * strides with gaps (NaN there must stay NaN), a stride of 0 for B (one B for every
 * product), then the grouped cblas_?gemm_batch with two groups of different shapes. */
static void batch_products(void) {
    enum { M = 3, N = 4, K = 5, COUNT = 4, CAP = 512 };
    static double a[CAP], b[CAP], c[CAP], c0[CAP];
    static float af[CAP], bf[CAP], cf[CAP];
    int orders[] = {ROW, COL}, trans[] = {NOT, TR};
    unsigned seed = 7;
    for (int o = 0; o < 2; o++)
        for (int x = 0; x < 2; x++)
            for (int y = 0; y < 2; y++)
                for (int b_shared = 0; b_shared <= 1; b_shared++) {
                    int order = orders[o], ta = trans[x], tb = trans[y];
                    /* Stored shapes: op(A) is M x K, op(B) is K x N. */
                    int ra = ta == NOT ? M : K, ca = ta == NOT ? K : M, rb = tb == NOT ? K : N, cb = tb == NOT ? N : K;
                    int lda = (order == COL ? ra : ca) + 1, ldb = (order == COL ? rb : cb) + 2,
                        ldc = (order == COL ? M : N) + 1;
                    int sa = lda * (order == COL ? ca : ra) + 3, sb = b_shared ? 0 : ldb * (order == COL ? cb : rb) + 1,
                        sc = ldc * (order == COL ? N : M) + 2;
                    for (int i = 0; i < CAP; i++) {
                        a[i] = (double)((int)(frand(&seed) * 4));
                        b[i] = (double)((int)(frand(&seed) * 4));
                        c0[i] = (double)((int)(frand(&seed) * 4));
                        af[i] = (float)a[i], bf[i] = (float)b[i];
                    }
                    /* C: values inside each product's C, NaN in the padding and the gaps. */
                    for (int i = 0; i < CAP; i++) c[i] = NAN;
                    for (int p = 0; p < COUNT; p++)
                        for (int i = 0; i < M; i++)
                            for (int j = 0; j < N; j++) {
                                int idx = p * sc + (order == COL ? i + j * ldc : i * ldc + j);
                                c[idx] = c0[idx];
                            }
                    for (int i = 0; i < CAP; i++) cf[i] = (float)c[i];
                    double want[CAP];
                    memcpy(want, c, sizeof want);
                    for (int p = 0; p < COUNT; p++)
                        for (int i = 0; i < M; i++)
                            for (int j = 0; j < N; j++) {
                                int idx = p * sc + (order == COL ? i + j * ldc : i * ldc + j);
                                want[idx] = expected(order, ta, tb, K, 2.0, a + p * sa, lda, b + p * sb, ldb, -1.0,
                                                     c0[idx], i, j);
                            }
                    cblas_dgemm_batch_strided(order, ta, tb, M, N, K, 2.0, a, lda, sa, b, ldb, sb, -1.0, c, ldc, sc,
                                              COUNT);
                    cblas_sgemm_batch_strided(order, ta, tb, M, N, K, 2.0f, af, lda, sa, bf, ldb, sb, -1.0f, cf, ldc,
                                              sc, COUNT);
                    int wrong = 0;
                    for (int i = 0; i < CAP; i++) {
                        int same_d = isnan(want[i]) ? isnan(c[i]) : c[i] == want[i];
                        int same_f = isnan(want[i]) ? isnan(cf[i]) : cf[i] == (float)want[i];
                        wrong += !same_d + !same_f;
                    }
                    char msg[160];
                    snprintf(msg, sizeof msg, "batch_strided order %d trans %d %d stride_b %d: %d wrong or stray", order,
                             ta, tb, sb, wrong);
                    check(wrong == 0, msg);
                }

    /* Grouped: group 0 is two 2 x 3 x 4 products (A transposed, alpha 1, beta 0 over NaN);
     * group 1 three 3 x 2 x 1 products (B transposed, alpha -1, beta 2). Column-major. */
    int tas[] = {TR, NOT}, tbs[] = {NOT, TR}, ms[] = {2, 3}, ns[] = {3, 2}, ks[] = {4, 1}, sizes[] = {2, 3};
    int ldas[] = {4, 3}, ldbs[] = {4, 2}, ldcs[] = {2, 3};
    double alphas[] = {1.0, -1.0}, betas[] = {0.0, 2.0};
    const double *pa[5], *pb[5];
    double *pc[5];
    static double ga[5][16], gb[5][16], gc[5][16], gwant[5][16];
    for (int p = 0; p < 5; p++) {
        int g = p < 2 ? 0 : 1;
        for (int i = 0; i < 16; i++) {
            ga[p][i] = (double)((int)(frand(&seed) * 4));
            gb[p][i] = (double)((int)(frand(&seed) * 4));
            gc[p][i] = g == 0 ? NAN : (double)((int)(frand(&seed) * 4));
        }
        memcpy(gwant[p], gc[p], sizeof gwant[p]);
        for (int i = 0; i < ms[g]; i++)
            for (int j = 0; j < ns[g]; j++)
                gwant[p][i + j * ldcs[g]] = expected(COL, tas[g], tbs[g], ks[g], alphas[g], ga[p], ldas[g], gb[p],
                                                     ldbs[g], betas[g], betas[g] == 0 ? 0 : gc[p][i + j * ldcs[g]], i, j);
        pa[p] = ga[p], pb[p] = gb[p], pc[p] = gc[p];
    }
    cblas_dgemm_batch(COL, tas, tbs, ms, ns, ks, alphas, pa, ldas, pb, ldbs, betas, pc, ldcs, 2, sizes);
    int wrong = 0;
    for (int p = 0; p < 5; p++)
        for (int i = 0; i < 16; i++) wrong += isnan(gwant[p][i]) ? !isnan(gc[p][i]) : gc[p][i] != gwant[p][i];
    char msg[96];
    snprintf(msg, sizeof msg, "grouped batch: %d wrong or stray", wrong);
    check(wrong == 0, msg);

    /* Bad arguments: reported at their position in the signature, nothing written. */
    double one[16], out[16];
    for (int i = 0; i < 16; i++) one[i] = 1, out[i] = 7;
    cblas_dgemm_batch_strided(COL, NOT, NOT, 2, 2, 2, 1.0, one, 1, 4, one, 2, 4, 0.0, out, 2, 4, 2);
    expect_error("strided lda < m", "cblas_dgemm_batch_strided", 9);
    cblas_dgemm_batch_strided(COL, NOT, NOT, 2, 2, 2, 1.0, one, 2, -1, one, 1, 4, 0.0, out, 2, 4, 2);
    expect_error("strided stridea < 0 before ldb", "cblas_dgemm_batch_strided", 10);
    cblas_dgemm_batch_strided(COL, NOT, NOT, 2, 2, 2, 1.0, one, 2, 4, one, 2, 4, 0.0, out, 2, 3, 2);
    expect_error("strided C products overlap", "cblas_dgemm_batch_strided", 17);
    cblas_dgemm_batch_strided(COL, NOT, NOT, 2, 2, 2, 1.0, one, 2, 4, one, 2, 4, 0.0, out, 2, 4, -1);
    expect_error("strided batch_size < 0", "cblas_dgemm_batch_strided", 18);
    float onef[16], outf[16];
    for (int i = 0; i < 16; i++) onef[i] = 1, outf[i] = 7;
    cblas_sgemm_batch_strided(COL, NOT, 99, 2, 2, 2, 1.0f, onef, 2, 4, onef, 2, 4, 0.0f, outf, 2, 4, 2);
    expect_error("strided bad transb", "cblas_sgemm_batch_strided", 3);
    const double *qa[2] = {one, one}, *qb[2] = {one, one};
    double *qc[2] = {out, out + 4};
    int two[] = {2, 2}, bad_ld[] = {1, 1}, neg[] = {-1, 1};
    cblas_dgemm_batch(COL, tas, tbs, two, two, two, alphas, qa, bad_ld, qb, two, betas, qc, two, 1, sizes);
    expect_error("grouped lda < rows", "cblas_dgemm_batch", 9);
    cblas_dgemm_batch(COL, tas, tbs, two, two, two, alphas, qa, two, qb, two, betas, qc, two, 1, neg);
    expect_error("grouped group_size < 0", "cblas_dgemm_batch", 16);
    cblas_dgemm_batch(COL, tas, tbs, two, two, two, alphas, qa, two, qb, two, betas, qc, two, -1, sizes);
    expect_error("grouped group_count < 0", "cblas_dgemm_batch", 15);
    int untouched = 1;
    for (int i = 0; i < 16; i++) untouched &= out[i] == 7 && outf[i] == 7;
    check(untouched, "batch: C untouched by rejected calls");
    float *qcf[1] = {outf};
    const float *qaf[1] = {onef}, *qbf[1] = {onef};
    int nots[] = {NOT}, one_group[] = {1};
    float alf[] = {1.0f}, bef[] = {0.0f};
    cblas_sgemm_batch(COL, nots, nots, two, two, two, alf, qaf, two, qbf, two, bef, qcf, two, 1, one_group);
    check(outf[0] == 2 && outf[3] == 2 && outf[4] == 7, "grouped sgemm: ones times ones, nothing past C");
}

int main(void) {
    const char ts[] = {'N', 'T', 'C', 'n', 't', 'c'};
    unsigned seed = 1;
    int shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {17, 9, 33}, {64, 65, 63}, {1, 40, 300}, {40, 1, 8}};
    double ab[][3] = {{1, 0, 0}, {1, 1, 0}, {-0.5, 2, 0}, {2, 0, 1}, {0, 1.5, 0}};
    for (int s = 0; s < 6; s++) {
        for (int x = 0; x < 6; x++) {
            for (int y = 0; y < 6; y++) {
                for (int cm = 0; cm <= 1; cm++) {
                    double *p = ab[(s + x + y) % 5];
                    int pad = (x + y + s) % 3;
                    if (cm) product("fortran", 1, ts[x], ts[y], shapes[s][0], shapes[s][1], shapes[s][2], pad, p[0],
                                    p[1], (int)p[2], seed++);
                    product("cblas", cm, ts[x], ts[y], shapes[s][0], shapes[s][1], shapes[s][2], pad, p[0], p[1],
                            (int)p[2], seed++);
                }
            }
        }
    }
    special_cases();
    errors();
    bf16_products();
    batch_products();
    printf("%d checks passed, %d failed\n", passed, failed);
    return failed != 0;
}
