package dev.deepnet.fuzz;

import dev.deepnet.fuzz.JsonSpans.Kind;
import dev.deepnet.fuzz.JsonSpans.Value;
import dev.deepnet.fuzz.Mutator.Mutation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Mutations that know the safetensors layout: the 8-byte header length, the JSON header (its
 * length fixed up afterwards), shapes and dtypes changed so the file stays valid, header padding,
 * and the data buffer's length. Shared by the safetensors and the model-file fuzzers.
 */
final class SafeTensorsMutators {
    private SafeTensorsMutators() {}

    /** Member names of a header worth writing over keys. */
    static final List<String> HEADER_KEYS = List.of("dtype", "shape", "data_offsets", "__metadata__", "extra", "");

    /** Strings worth writing over header strings: every dtype, near misses, and known tensor names. */
    static List<String> headerStrings(List<String> tensorNames) {
        List<String> out = new ArrayList<>(SafeTensorsLayout.DTYPES);
        out.addAll(List.of("f32", "F33", "F32 ", "FLOAT", "BF8", "pt"));
        out.addAll(tensorNames);
        return out;
    }

    /** The mutators, the header JSON ones listed twice: most of the format's rules are checked there. */
    static List<Mutator> all(JsonMutations header) {
        Mutator json = (in, r) -> headerJson(in, r, header);
        return List.of(SafeTensorsMutators::headerLength, json, json, SafeTensorsMutators::reshape,
                SafeTensorsMutators::retype, SafeTensorsMutators::padHeader, SafeTensorsMutators::resizeData);
    }

    /** Bytes 0-7: an interesting u64, the length off by a little, or the length of the whole file. */
    static Mutation headerLength(byte[] in, RandomGenerator r) {
        if (in.length < 8) {
            return null;
        }
        long n = ByteMutators.read(in, 0, 8, true);
        long to = switch (r.nextInt(3)) {
            case 0 -> InterestingValues.integer(r);
            case 1 -> n + (1 + r.nextInt(9)) * (r.nextBoolean() ? 1 : -1);
            default -> r.nextBoolean() ? in.length - 8 : in.length - 7;
        };
        byte[] out = in.clone();
        ByteMutators.write(out, 0, 8, to, true);
        return new Mutation(out, "header length (bytes 0-7) " + Long.toUnsignedString(n) + " -> " + Long.toUnsignedString(to));
    }

    static Mutation headerJson(byte[] in, RandomGenerator r, JsonMutations mutations) {
        SafeTensorsLayout file = SafeTensorsLayout.split(in);
        if (file == null) {
            return null;
        }
        JsonMutations.Edit edit = mutations.mutate(file.header(), r);
        return edit == null ? null : new Mutation(file.withHeader(edit.text()).join(), "header JSON: " + edit.description()
                + " (length fixed)");
    }

    /** A tensor's shape reversed, two dimensions merged, or a 1 inserted: same element count, so the file stays valid. */
    static Mutation reshape(byte[] in, RandomGenerator r) {
        SafeTensorsLayout file = SafeTensorsLayout.split(in);
        Value shape = file == null ? null : JsonMutations.pick(tensorFields(file.header(), "shape", Kind.ARRAY), r);
        if (shape == null) {
            return null;
        }
        List<Long> dims = new ArrayList<>();
        for (Value d : shape.children()) {
            try {
                dims.add(Long.parseLong(d.in(file.header())));
            } catch (NumberFormatException notALong) {
                return null; // already damaged by an earlier mutation
            }
        }
        String what;
        if (dims.size() >= 2 && r.nextBoolean()) {
            if (r.nextBoolean()) {
                Collections.reverse(dims);
                what = "reversed";
            } else {
                int i = r.nextInt(dims.size() - 1);
                dims.set(i, dims.get(i) * dims.remove(i + 1));
                what = "merged dimensions " + i + " and " + (i + 1);
            }
        } else {
            dims.add(r.nextInt(dims.size() + 1), 1L);
            what = "inserted a 1";
        }
        String to = dims.toString().replace(" ", "");
        JsonMutations.Edit edit = JsonMutations.splice(file.header(), shape, to, "");
        return new Mutation(file.withHeader(edit.text()).join(), "shape " + shape.in(file.header()) + " -> " + to + " ("
                + what + ", length fixed)");
    }

    /** A tensor's dtype changed to another of the same size: the file stays valid, what it holds changes. */
    static Mutation retype(byte[] in, RandomGenerator r) {
        SafeTensorsLayout file = SafeTensorsLayout.split(in);
        Value dtype = file == null ? null : JsonMutations.pick(tensorFields(file.header(), "dtype", Kind.STRING), r);
        if (dtype == null) {
            return null;
        }
        String from = JsonSpans.unescape(dtype.in(file.header()));
        Integer bits = from == null ? null : SafeTensorsLayout.DTYPE_BITS.get(from);
        if (bits == null) {
            return null;
        }
        List<String> same = SafeTensorsLayout.DTYPES.stream()
                .filter(d -> SafeTensorsLayout.DTYPE_BITS.get(d).equals(bits) && !d.equals(from)).toList();
        if (same.isEmpty()) {
            return null;
        }
        String to = same.get(r.nextInt(same.size()));
        JsonMutations.Edit edit = JsonMutations.splice(file.header(), dtype, JsonSpans.quote(to), "");
        return new Mutation(file.withHeader(edit.text()).join(), "dtype " + from + " -> " + to + " (same size, length fixed)");
    }

    /** Header padding: spaces are allowed; tabs, newlines, NULs and 0xFF test the edges of "padded". */
    static Mutation padHeader(byte[] in, RandomGenerator r) {
        SafeTensorsLayout file = SafeTensorsLayout.split(in);
        if (file == null) {
            return null;
        }
        char[] pads = {' ', ' ', '\t', '\n', '\0', (char) 0xFF};
        char pad = pads[r.nextInt(pads.length)];
        int n = 1 + r.nextInt(16);
        return new Mutation(file.withHeader(file.header() + String.valueOf(pad).repeat(n)).join(),
                "padded the header with " + n + " x 0x" + Integer.toHexString(pad) + " (length fixed)");
    }

    /** Bytes added to or cut from the data buffer: a tail no tensor owns, or a tensor running past the end. */
    static Mutation resizeData(byte[] in, RandomGenerator r) {
        SafeTensorsLayout file = SafeTensorsLayout.split(in);
        if (file == null) {
            return null;
        }
        int n = 1 + r.nextInt(16);
        byte[] data;
        String what;
        if (r.nextBoolean() || file.data().length == 0) {
            byte[] extra = new byte[n];
            r.nextBytes(extra);
            data = ByteMutators.concat(file.data(), extra);
            what = "appended " + n + " bytes to";
        } else {
            n = Math.min(n, file.data().length);
            data = java.util.Arrays.copyOf(file.data(), file.data().length - n);
            what = "cut " + n + " bytes from";
        }
        return new Mutation(new SafeTensorsLayout(file.header(), data).join(), what + " the data buffer");
    }

    /** The {@code field} value of every tensor entry (top-level objects other than __metadata__) that has one of {@code kind}. */
    static List<Value> tensorFields(String header, String field, Kind kind) {
        Value root = JsonSpans.parse(header);
        List<Value> out = new ArrayList<>();
        if (root == null || root.kind() != Kind.OBJECT) {
            return out;
        }
        for (int i = 0; i < root.keys().size(); i++) {
            if ("__metadata__".equals(JsonSpans.unescape(root.keys().get(i).in(header)))) {
                continue;
            }
            Value v = JsonSpans.member(header, root.children().get(i), field);
            if (v != null && v.kind() == kind) {
                out.add(v);
            }
        }
        return out;
    }
}
