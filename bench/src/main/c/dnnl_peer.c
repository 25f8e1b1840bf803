/*
 * The C peer of scripts/bench-peers: oneDNN's C API called directly, against the libdnnl bundled
 * with deepnet (the script links it with -rpath to native/target/...). It does what
 * FfmPrimitivePeer.java and JniPrimitivePeer.java do, call for call: convolutions created with
 * format_tag any and fed in the layouts oneDNN chose (inputs reordered once, before timing),
 * matmul and ReLU on plain layouts; each timed call is dnnl_primitive_execute + dnnl_stream_wait.
 * The timing rules are Measure.java's (see there); the inputs are TestData.java's.
 *
 * usage: dnnl_peer WORKLOAD [--warmup S] [--measure S] [--min-samples N] [--max-samples N] [--sample-us US]
 *        dnnl_peer probe
 * WORKLOAD: conv-alexnet1 | conv-lenet | matmul-1024 | relu-10. Prints one "RESULT key=value ..." line.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oneapi/dnnl/dnnl.h"

#define CHECK(call)                                                                     \
    do {                                                                                \
        dnnl_status_t s_ = (call);                                                      \
        if (s_ != dnnl_success) {                                                       \
            fprintf(stderr, "dnnl_peer: %s failed: status %d (line %d)\n", #call, (int)s_, __LINE__); \
            exit(2);                                                                    \
        }                                                                               \
    } while (0)

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* TestData.value: the top 24 bits of (i + offset) * 2654435761 mod 2^32, scaled to [-0.5, 0.5). */
static float test_value(int64_t i, int64_t offset) {
    uint32_t h = (uint32_t)((uint64_t)(i + offset) * 2654435761u);
    return (float)(h >> 8) * 0x1p-24f - 0.5f;
}
#define OFFSET_SRC 0
#define OFFSET_WEIGHTS (1LL << 24)
#define OFFSET_BIAS (2LL << 24)

/* The loaded files whose name contains fragment, comma-separated, from /proc/self/maps. */
static void mapped(const char *fragment, char *out, size_t cap) {
    out[0] = '\0';
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) {
        snprintf(out, cap, "unknown");
        return;
    }
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char *path = strchr(line, '/');
        if (!path) continue;
        path[strcspn(path, "\n")] = '\0';
        const char *base = strrchr(path, '/') + 1;
        if (!strstr(base, fragment) || strstr(out, path)) continue;
        if (out[0]) strncat(out, ",", cap - strlen(out) - 1);
        strncat(out, path, cap - strlen(out) - 1);
    }
    fclose(f);
    if (!out[0]) snprintf(out, cap, "-");
}

static const char *isa_name(dnnl_cpu_isa_t isa) {
    switch (isa) {
        case dnnl_cpu_isa_avx10_1_512_amx_fp16: return "AVX10_1_512_AMX_FP16";
        case dnnl_cpu_isa_avx10_1_512_amx: return "AVX10_1_512_AMX";
        case dnnl_cpu_isa_avx10_1_512: return "AVX10_1_512";
        case dnnl_cpu_isa_avx512_core_bf16: return "AVX512_CORE_BF16";
        case dnnl_cpu_isa_avx512_core_vnni: return "AVX512_CORE_VNNI";
        case dnnl_cpu_isa_avx512_core: return "AVX512_CORE";
        case dnnl_cpu_isa_avx2_vnni_2: return "AVX2_VNNI_2";
        case dnnl_cpu_isa_avx2_vnni: return "AVX2_VNNI";
        case dnnl_cpu_isa_avx2: return "AVX2";
        default: return "other";
    }
}

typedef struct {
    double warmup, measure, sample_us;
    int min_samples, max_samples;
} settings_t;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    dnnl_primitive_t prim;
    dnnl_stream_t stream;
    int nargs;
    dnnl_exec_arg_t args[4];
} call_t;

static void call(call_t *c) {
    CHECK(dnnl_primitive_execute(c->prim, c->stream, c->nargs, c->args));
    CHECK(dnnl_stream_wait(c->stream));
}

static size_t ndims_size(int n, const dnnl_dims_t d) {
    size_t s = 1;
    for (int i = 0; i < n; i++) s *= (size_t)d[i];
    return s;
}

static dnnl_format_tag_t plain_tag(int ndims) {
    return ndims == 1 ? dnnl_a : ndims == 2 ? dnnl_ab : dnnl_abcd;
}

static void *aligned_buffer(size_t bytes) {
    size_t rounded = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (!p) {
        fprintf(stderr, "dnnl_peer: out of memory (%zu bytes)\n", bytes);
        exit(2);
    }
    memset(p, 0, rounded);
    return p;
}

static dnnl_memory_t memory(const_dnnl_memory_desc_t md, dnnl_engine_t engine, float **data) {
    *data = aligned_buffer(dnnl_memory_desc_get_size(md));
    dnnl_memory_t m;
    CHECK(dnnl_memory_create(&m, md, engine, *data));
    return m;
}

/* The test data in the layout `wanted`: filled plain, reordered once where oneDNN chose another. */
static dnnl_memory_t input(dnnl_engine_t engine, dnnl_stream_t stream, int ndims, const dnnl_dims_t dims,
                           const_dnnl_memory_desc_t wanted, int64_t offset) {
    dnnl_memory_desc_t plain_md;
    CHECK(dnnl_memory_desc_create_with_tag(&plain_md, ndims, dims, dnnl_f32, plain_tag(ndims)));
    float *data;
    dnnl_memory_t plain = memory(plain_md, engine, &data);
    size_t n = ndims_size(ndims, dims);
    for (size_t i = 0; i < n; i++) data[i] = test_value((int64_t)i, offset);
    if (dnnl_memory_desc_equal(plain_md, wanted)) return plain;
    float *native_data;
    dnnl_memory_t native = memory(wanted, engine, &native_data);
    dnnl_primitive_desc_t rpd;
    CHECK(dnnl_reorder_primitive_desc_create(&rpd, plain_md, engine, wanted, engine, NULL));
    dnnl_primitive_t reorder;
    CHECK(dnnl_primitive_create(&reorder, rpd));
    call_t c = {reorder, stream, 2, {{DNNL_ARG_FROM, plain}, {DNNL_ARG_TO, native}}};
    call(&c);
    /* Freed at exit with the rest: this process makes one measurement. */
    return native;
}

static dnnl_memory_desc_t desc(int ndims, const dnnl_dims_t dims, dnnl_format_tag_t tag) {
    dnnl_memory_desc_t md;
    CHECK(dnnl_memory_desc_create_with_tag(&md, ndims, dims, dnnl_f32, tag));
    return md;
}

/* The primitive descriptor of a workload; returns 0 for an unknown name. */
static int create(const char *w, dnnl_engine_t engine, dnnl_primitive_desc_t *pd, int *src_nd, dnnl_dims_t src,
                  int *wei_nd, dnnl_dims_t wei, int *is_conv) {
    *is_conv = 0;
    if (!strcmp(w, "conv-alexnet1") || !strcmp(w, "conv-lenet")) {
        int alex = !strcmp(w, "conv-alexnet1");
        int64_t n = alex ? 32 : 64, c = alex ? 3 : 1, hw = alex ? 227 : 28, o = alex ? 96 : 32, k = alex ? 11 : 5;
        int64_t stride = alex ? 4 : 1, pad = alex ? 0 : 2;
        int64_t out = (hw + 2 * pad - k) / stride + 1;
        *src_nd = 4;
        src[0] = n; src[1] = c; src[2] = hw; src[3] = hw;
        *wei_nd = 4;
        wei[0] = o; wei[1] = c; wei[2] = k; wei[3] = k;
        dnnl_dims_t bias = {o}, dst = {n, o, out, out};
        dnnl_dims_t strides = {stride, stride}, dilates = {0, 0}, pads = {pad, pad};
        CHECK(dnnl_convolution_forward_primitive_desc_create(pd, engine, dnnl_forward_inference, dnnl_convolution_direct,
                desc(4, src, dnnl_format_tag_any), desc(4, wei, dnnl_format_tag_any), desc(1, bias, dnnl_x),
                desc(4, dst, dnnl_format_tag_any), strides, dilates, pads, pads, NULL));
        *is_conv = 1;
        return 1;
    }
    if (!strcmp(w, "matmul-1024")) {
        *src_nd = 2;
        src[0] = src[1] = 1024;
        *wei_nd = 2;
        wei[0] = wei[1] = 1024;
        dnnl_memory_desc_t md = desc(2, src, dnnl_ab);
        CHECK(dnnl_matmul_primitive_desc_create(pd, engine, md, md, NULL, md, NULL));
        return 1;
    }
    if (!strcmp(w, "relu-10")) {
        *src_nd = 1;
        src[0] = 10;
        *wei_nd = 0;
        dnnl_memory_desc_t md = desc(1, src, dnnl_a);
        CHECK(dnnl_eltwise_forward_primitive_desc_create(pd, engine, dnnl_forward_inference, dnnl_eltwise_relu, md, md, 0.f,
                0.f, NULL));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: dnnl_peer WORKLOAD|probe [--warmup S] [--measure S] [--min-samples N] [--max-samples N] [--sample-us US]\n");
        return 1;
    }
    const char *w = argv[1];
    settings_t set = {0.5, 1.5, 200.0, 3, 100000};
    for (int i = 2; i < argc; i++) {
        if (i + 1 == argc) {
            fprintf(stderr, "dnnl_peer: %s needs a value\n", argv[i]);
            return 1;
        }
        const char *k = argv[i], *v = argv[++i];
        if (!strcmp(k, "--warmup")) set.warmup = atof(v);
        else if (!strcmp(k, "--measure")) set.measure = atof(v);
        else if (!strcmp(k, "--sample-us")) set.sample_us = atof(v);
        else if (!strcmp(k, "--min-samples")) set.min_samples = atoi(v);
        else if (!strcmp(k, "--max-samples")) set.max_samples = atoi(v);
        else {
            fprintf(stderr, "dnnl_peer: unknown option %s\n", k);
            return 1;
        }
    }
    if (!(set.measure > 0) || set.min_samples < 1 || set.max_samples < set.min_samples || !(set.sample_us > 0)) {
        fprintf(stderr, "dnnl_peer: bad timing settings\n");
        return 1;
    }
    const char *threads = getenv("OMP_NUM_THREADS");
    static char lib[8192], gomp[8192];

    if (!strcmp(w, "probe")) {
        dnnl_engine_t engine;
        CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
        const dnnl_version_t *v = dnnl_version();
        mapped("libdnnl", lib, sizeof lib);
        mapped("libgomp", gomp, sizeof gomp);
        printf("PEER peer=c onednn=%d.%d.%d(%s) isa=%s lib=%s gomp=%s compiler=gcc-%d.%d.%d\n", v->major, v->minor, v->patch,
               v->hash, isa_name(dnnl_get_effective_cpu_isa()), lib, gomp, __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
        return 0;
    }

    double setup_start = now_ns();
    dnnl_engine_t engine;
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    dnnl_stream_t stream;
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    dnnl_primitive_desc_t pd;
    dnnl_dims_t src, wei;
    int src_nd, wei_nd, is_conv;
    double create_start = now_ns();
    if (!create(w, engine, &pd, &src_nd, src, &wei_nd, wei, &is_conv)) {
        fprintf(stderr, "dnnl_peer: unknown workload '%s'; known: conv-alexnet1, conv-lenet, matmul-1024, relu-10\n", w);
        return 1;
    }
    call_t c = {NULL, stream, 0, {{0}}};
    CHECK(dnnl_primitive_create(&c.prim, pd));
    double create_us = (now_ns() - create_start) / 1e3;

    c.args[c.nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SRC,
            input(engine, stream, src_nd, src, dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, DNNL_ARG_SRC), OFFSET_SRC)};
    if (wei_nd > 0)
        c.args[c.nargs++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, input(engine, stream, wei_nd, wei,
                dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, DNNL_ARG_WEIGHTS), OFFSET_WEIGHTS)};
    if (is_conv) {
        dnnl_dims_t bias = {wei[0]};
        c.args[c.nargs++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, input(engine, stream, 1, bias,
                dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, DNNL_ARG_BIAS), OFFSET_BIAS)};
    }
    const_dnnl_memory_desc_t dst_md = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, DNNL_ARG_DST);
    float *dst;
    c.args[c.nargs++] = (dnnl_exec_arg_t){DNNL_ARG_DST, memory(dst_md, engine, &dst)};
    double setup_us = (now_ns() - setup_start) / 1e3;

    /* Measure.run: first call, warm-up, samples of `repeat` calls. */
    double start = now_ns();
    call(&c);
    double t = now_ns();
    double first_ns = t - start, warm_ns = 0;
    int warmup = 1, after_first = 0;
    while (t - start < set.warmup * 1e9) {
        double s = t;
        call(&c);
        t = now_ns();
        warm_ns += t - s;
        after_first++;
        warmup++;
    }
    double estimate = after_first > 0 ? warm_ns / after_first : first_ns;
    double r = ceil(set.sample_us * 1e3 / (estimate > 1 ? estimate : 1));
    int repeat = r < 1 ? 1 : r > 1e6 ? 1000000 : (int)r;
    int cap = 16, n = 0;
    double *samples = malloc(sizeof(double) * cap);
    double measure_start = now_ns();
    for (;;) {
        double s = now_ns();
        for (int i = 0; i < repeat; i++) call(&c);
        double e = now_ns();
        if (n == cap) samples = realloc(samples, sizeof(double) * (cap *= 2));
        samples[n++] = (e - s) / 1e3 / repeat;
        double elapsed = (e - measure_start) / 1e9;
        if (n >= set.max_samples || (n >= set.min_samples && elapsed >= set.measure) || elapsed >= 3 * set.measure) break;
    }
    double sum = 0, min = samples[0];
    for (int i = 0; i < n; i++) {
        sum += samples[i];
        if (samples[i] < min) min = samples[i];
    }
    double mean = sum / n;
    qsort(samples, n, sizeof(double), cmp_double);
    double median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;

    /* The same primitive again: what creation costs once oneDNN's primitive cache has it. */
    double again = now_ns();
    dnnl_primitive_desc_t pd2;
    dnnl_dims_t src2, wei2;
    int src2_nd, wei2_nd, conv2;
    create(w, engine, &pd2, &src2_nd, src2, &wei2_nd, wei2, &conv2);
    dnnl_primitive_t p2;
    CHECK(dnnl_primitive_create(&p2, pd2));
    double recreate_us = (now_ns() - again) / 1e3;
    CHECK(dnnl_primitive_destroy(p2));
    CHECK(dnnl_primitive_desc_destroy(pd2));

    double checksum = 0;
    size_t floats = dnnl_memory_desc_get_size(dst_md) / sizeof(float);
    for (size_t i = 0; i < floats; i++) checksum += dst[i];
    const char *impl = "?";
    CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
    mapped("libdnnl", lib, sizeof lib);
    printf("RESULT peer=c workload=%s threads=%s setup_us=%.6g create_us=%.6g recreate_us=%.6g first_us=%.6g warmup=%d repeat=%d samples=%d"
           " median_us=%.6g min_us=%.6g mean_us=%.6g checksum=%.6g impl=%s lib=%s\n",
           w, threads ? threads : "unset", setup_us, create_us, recreate_us, first_ns / 1e3, warmup, repeat, n, median, min, mean, checksum,
           impl, lib);
    return 0;
}
