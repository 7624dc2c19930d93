/* ScaLAPACK's distributed pdgemm_ on a 2 x 2 process grid, with its node-local dgemm_ calls
 * answered by whatever BLAS the processes resolve (libmatmul_blas when it is preloaded).
 *
 *   mpirun -np 4 ./pdgemm N NB [expect-matmul]
 *
 * A and B are N x N, distributed block-cyclically in NB x NB blocks, with entries from a
 * formula every process can evaluate; each process checks its local part of C = A * B
 * against a serial dot product in double (the error bound gamma_{N+2} * |A| * |B|), and
 * reports how many of its GEMM calls libmatmul_blas answered (matmul_blas_calls(), looked up
 * with dlsym so the program runs without the library too). Rank 0 prints the time of one
 * pdgemm_ (the slowest rank's) and the verdict; the exit status is 1 on a wrong entry, and,
 * with "expect-matmul", when some rank's local GEMMs did not reach libmatmul_blas. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void Cblacs_pinfo(int *, int *);
void Cblacs_get(int, int, int *);
void Cblacs_gridinit(int *, const char *, int, int);
void Cblacs_gridinfo(int, int *, int *, int *, int *);
void Cblacs_gridexit(int);
int numroc_(const int *, const int *, const int *, const int *, const int *);
void descinit_(int *, const int *, const int *, const int *, const int *, const int *, const int *, const int *,
               const int *, int *);
void pdgemm_(const char *, const char *, const int *, const int *, const int *, const double *, const double *,
             const int *, const int *, const int *, const double *, const int *, const int *, const int *,
             const double *, double *, const int *, const int *, const int *, size_t, size_t);

static double a_at(int i, int j) { return sin(0.37 * i + 1.1 * j) ; }
static double b_at(int i, int j) { return cos(0.53 * i - 0.29 * j) / (1 + (i + j) % 7); }

/* Global index of local index l in a block-cyclic dimension (source process 0). */
static int global(int l, int nb, int p, int np) { return (l / nb) * np * nb + p * nb + l % nb; }

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int n = argc > 1 ? atoi(argv[1]) : 512, nb = argc > 2 ? atoi(argv[2]) : 64;
    int expect_matmul = argc > 3 && strcmp(argv[3], "expect-matmul") == 0;
    int rank, size, ctx, nprow = 2, npcol = 2, myrow, mycol, zero = 0, info;
    Cblacs_pinfo(&rank, &size);
    if (size != 4) {
        if (rank == 0) fprintf(stderr, "run with 4 processes (a 2 x 2 grid), not %d\n", size);
        MPI_Finalize();
        return 2;
    }
    Cblacs_get(-1, 0, &ctx);
    Cblacs_gridinit(&ctx, "Row", nprow, npcol);
    Cblacs_gridinfo(ctx, &nprow, &npcol, &myrow, &mycol);
    int mloc = numroc_(&n, &nb, &myrow, &zero, &nprow), nloc = numroc_(&n, &nb, &mycol, &zero, &npcol);
    int lld = mloc > 1 ? mloc : 1, desc[9];
    descinit_(desc, &n, &n, &nb, &nb, &zero, &zero, &ctx, &lld, &info);
    double *a = malloc(sizeof(double) * lld * nloc), *b = malloc(sizeof(double) * lld * nloc),
           *c = calloc((size_t)lld * nloc, sizeof(double));
    for (int jl = 0; jl < nloc; jl++) {
        for (int il = 0; il < mloc; il++) {
            int i = global(il, nb, myrow, nprow), j = global(jl, nb, mycol, npcol);
            a[il + (size_t)jl * lld] = a_at(i, j);
            b[il + (size_t)jl * lld] = b_at(i, j);
        }
    }
    uint64_t (*calls)(void) = (uint64_t(*)(void))dlsym(RTLD_DEFAULT, "matmul_blas_calls");
    uint64_t before = calls ? calls() : 0;
    double one = 1, zerod = 0;
    int ione = 1;
    MPI_Barrier(MPI_COMM_WORLD);
    double t = MPI_Wtime();
    pdgemm_("N", "N", &n, &n, &n, &one, a, &ione, &ione, desc, b, &ione, &ione, desc, &zerod, c, &ione, &ione, desc,
            1, 1);
    t = MPI_Wtime() - t;
    uint64_t answered = calls ? calls() - before : 0;
    int wrong = 0;
    double worst = 0;
    for (int jl = 0; jl < nloc; jl++) {
        for (int il = 0; il < mloc; il++) {
            int i = global(il, nb, myrow, nprow), j = global(jl, nb, mycol, npcol);
            double s = 0, sa = 0;
            for (int p = 0; p < n; p++) {
                s += a_at(i, p) * b_at(p, j);
                sa += fabs(a_at(i, p) * b_at(p, j));
            }
            double bound = 2 * (n + 2) * 1.12e-16 * sa, err = fabs(c[il + (size_t)jl * lld] - s);
            if (!(err <= bound)) wrong++;
            if (bound > 0 && err / bound > worst) worst = err / bound;
        }
    }
    double tmax, worst_all;
    int wrong_all;
    long long answered_all, answered_ll = (long long)answered, min_answered;
    MPI_Reduce(&t, &tmax, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    MPI_Reduce(&worst, &worst_all, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    MPI_Reduce(&wrong, &wrong_all, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(&answered_ll, &answered_all, 1, MPI_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Reduce(&answered_ll, &min_answered, 1, MPI_LONG_LONG, MPI_MIN, 0, MPI_COMM_WORLD);
    printf("rank %d (grid %d,%d): local C %d x %d, %llu local GEMM calls answered by libmatmul_blas\n", rank, myrow,
           mycol, mloc, nloc, (unsigned long long)answered);
    fflush(stdout);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
        printf("pdgemm N = %d, NB = %d, 2 x 2 grid: %.1f ms, max err/bound %.2e, %d wrong entries; libmatmul_blas %s "
               "(%lld calls in all, every rank %s)\n",
               n, nb, tmax * 1e3, worst_all, wrong_all, calls ? "loaded" : "not loaded", answered_all,
               min_answered > 0 ? "used it" : "did not use it");
    }
    free(a); free(b); free(c);
    Cblacs_gridexit(ctx);
    MPI_Finalize();
    return rank == 0 && (wrong_all != 0 || (expect_matmul && min_answered == 0));
}
