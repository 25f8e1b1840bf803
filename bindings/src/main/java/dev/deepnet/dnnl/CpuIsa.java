package dev.deepnet.dnnl;

import static dev.deepnet.dnnl.internal.dnnl_h.*;

/**
 * Instruction sets oneDNN can generate code for ({@code dnnl_cpu_isa_t}). oneDNN picks the best
 * the CPU supports at run time; the environment variable {@code ONEDNN_MAX_CPU_ISA} (e.g.
 * {@code AVX2}, {@code SSE41}) caps it, as does {@link Dnnl#setMaxCpuIsa} before first use.
 */
public enum CpuIsa {
    DEFAULT(dnnl_cpu_isa_default),
    SSE41(dnnl_cpu_isa_sse41),
    AVX(dnnl_cpu_isa_avx),
    AVX2(dnnl_cpu_isa_avx2),
    AVX2_VNNI(dnnl_cpu_isa_avx2_vnni),
    AVX2_VNNI_2(dnnl_cpu_isa_avx2_vnni_2),
    AVX512_CORE(dnnl_cpu_isa_avx512_core),
    AVX512_CORE_VNNI(dnnl_cpu_isa_avx512_core_vnni),
    AVX512_CORE_BF16(dnnl_cpu_isa_avx512_core_bf16),
    AVX10_1_512(dnnl_cpu_isa_avx10_1_512),
    AVX10_1_512_AMX(dnnl_cpu_isa_avx10_1_512_amx),
    AVX10_1_512_AMX_FP16(dnnl_cpu_isa_avx10_1_512_amx_fp16);

    private final int code;

    CpuIsa(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static CpuIsa of(int code) {
        for (CpuIsa isa : values()) {
            if (isa.code == code) {
                return isa;
            }
        }
        throw new IllegalArgumentException("unknown dnnl_cpu_isa_t value 0x" + Integer.toHexString(code));
    }
}
