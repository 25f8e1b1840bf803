package dev.deepnet.dnnl.generator;

import java.util.List;

/** What the generator binds, in header order: the C API as parsed from oneDNN's headers. */
record HeaderModel(List<Constant> constants, List<Struct> structs, List<Function> functions, List<String> skippedMacros) {

    /** How a C value crosses into Java. */
    enum Carrier {
        BYTE("byte", "JAVA_BYTE", "C_CHAR", 1),
        SHORT("short", "JAVA_SHORT", "C_SHORT", 2),
        INT("int", "JAVA_INT", "C_INT", 4),
        LONG("long", "JAVA_LONG", "C_LONG", 8),
        FLOAT("float", "JAVA_FLOAT", "C_FLOAT", 4),
        DOUBLE("double", "JAVA_DOUBLE", "C_DOUBLE", 8),
        ADDRESS("MemorySegment", "ADDRESS", "C_POINTER", 8);

        final String javaType;
        final String valueLayout;
        final String cLayout;
        final int size;

        Carrier(String javaType, String valueLayout, String cLayout, int size) {
            this.javaType = javaType;
            this.valueLayout = valueLayout;
            this.cLayout = cLayout;
            this.size = size;
        }
    }

    /**
     * An integer constant: an enumerator (group = its enum's typedef name) or an object-like
     * macro (group = null). {@code isLong} when its C type is 64 bits wide.
     */
    record Constant(String name, long value, boolean isLong, String group, String header) {}

    /** A struct typedef bound with its layout; fields in declaration order. */
    record Struct(String name, List<Field> fields, String header) {}

    /** One struct field: a scalar, or an inline array of {@code count} scalars when count > 0. */
    record Field(String name, Carrier carrier, long count, String cType) {}

    /** A function declared DNNL_API. {@code returns} is null for void. */
    record Function(String name, Carrier returns, List<Param> params, String prototype, String header) {}

    record Param(String name, Carrier carrier) {}
}
