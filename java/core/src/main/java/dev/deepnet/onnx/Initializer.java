package dev.deepnet.onnx;

import com.google.protobuf.ByteString;
import dev.deepnet.onnx.internal.OnnxProto.StringStringEntryProto;
import dev.deepnet.onnx.internal.OnnxProto.TensorProto;
import dev.deepnet.tensor.Shape;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * A constant tensor of an ONNX graph — an initializer, or a Constant node's value — checked when it
 * is made: its dimensions, its element type, and that its data holds exactly its elements, whether
 * inline ({@code raw_data} or a typed field) or in an external data file inside the model's folder.
 * The values are read only on request, so checking a model costs no memory for its weights.
 */
final class Initializer {

    static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    static final int INT64 = TensorProto.DataType.INT64_VALUE;
    static final int BOOL = TensorProto.DataType.BOOL_VALUE;

    private final String name;
    private final TensorProto proto;
    private final long[] dims;
    private final long elements;
    private final ExternalData external; // null when the data is in the model file

    /** Where an external tensor's bytes are: a file in the model's folder, checked to hold them. */
    record ExternalData(Path file, long offset, long length) {}

    private Initializer(String name, TensorProto proto, long[] dims, long elements, ExternalData external) {
        this.name = name;
        this.proto = proto;
        this.dims = dims;
        this.elements = elements;
        this.external = external;
    }

    /**
     * Checks {@code t} and wraps it. {@code folder} is the model file's folder, against which external
     * data locations resolve (and which they may not leave); {@code what} names the tensor in messages.
     */
    static Initializer of(TensorProto t, String what, Path folder) throws InvalidOnnx {
        long[] dims = new long[t.getDimsCount()];
        long elements = 1;
        for (int i = 0; i < dims.length; i++) {
            dims[i] = t.getDims(i);
            if (dims[i] < 0) {
                throw new InvalidOnnx(what + ": dimension " + i + " is " + dims[i]);
            }
            elements = Math.multiplyHigh(elements, dims[i]) != 0 || elements * dims[i] < 0 ? -1 : elements * dims[i];
            if (elements < 0) {
                throw new InvalidOnnx(what + ": dimensions " + Arrays.toString(t.getDimsList().stream().mapToLong(Long::longValue)
                        .limit(16).toArray()) + " hold more elements than a long counts");
            }
        }
        int type = t.getDataType();
        int size = switch (type) {
            case TensorProto.DataType.FLOAT_VALUE, TensorProto.DataType.INT32_VALUE -> 4;
            case TensorProto.DataType.INT64_VALUE, TensorProto.DataType.DOUBLE_VALUE -> 8;
            case TensorProto.DataType.BOOL_VALUE, TensorProto.DataType.UINT8_VALUE, TensorProto.DataType.INT8_VALUE -> 1;
            case TensorProto.DataType.FLOAT16_VALUE, TensorProto.DataType.BFLOAT16_VALUE -> 2;
            default -> 0; // strings, complex, float8, 4-bit: deepnet reads none of them; the user is told when one is used
        };
        if (t.hasSegment()) {
            throw new InvalidOnnx(what + ": segmented tensors are not supported");
        }
        ExternalData external = null;
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            external = external(t, what, folder, elements, size);
        } else if (t.getExternalDataCount() > 0) {
            throw new InvalidOnnx(what + ": has external_data entries but its data_location is not EXTERNAL");
        } else if (size > 0) {
            long stored = stored(t, type, size);
            if (stored != elements) {
                throw new InvalidOnnx(what + ": " + describeShape(dims) + " of " + typeName(type) + " needs " + elements
                        + " values but its data holds " + stored);
            }
        }
        return new Initializer(t.getName(), t, dims, elements, external);
    }

    /** How many values the inline data holds, or -1 when several fields hold data. */
    private static long stored(TensorProto t, int type, int size) throws InvalidOnnx {
        long typed = switch (type) {
            case TensorProto.DataType.FLOAT_VALUE -> t.getFloatDataCount();
            case TensorProto.DataType.INT64_VALUE -> t.getInt64DataCount();
            case TensorProto.DataType.DOUBLE_VALUE -> t.getDoubleDataCount();
            default -> t.getInt32DataCount(); // int32, bool, (u)int8, float16 and bfloat16 (as bits) are stored in int32_data
        };
        long others = t.getFloatDataCount() + t.getInt32DataCount() + t.getInt64DataCount() + t.getDoubleDataCount()
                + t.getUint64DataCount() + t.getStringDataCount() - typed;
        if (others != 0 || (typed > 0 && t.hasRawData())) {
            throw new InvalidOnnx("tensor '" + t.getName() + "': its data is in more than one field, or in a field of another type");
        }
        if (t.hasRawData()) {
            long bytes = t.getRawData().size();
            if (bytes % size != 0) {
                throw new InvalidOnnx("tensor '" + t.getName() + "': raw_data holds " + bytes + " bytes, not a whole number of "
                        + size + "-byte values");
            }
            return bytes / size;
        }
        return typed;
    }

    /** The external data's file, offset and length, checked: inside {@code folder}, a regular file holding every byte. */
    private static ExternalData external(TensorProto t, String what, Path folder, long elements, int size) throws InvalidOnnx {
        if (size == 0) {
            throw new InvalidOnnx(what + ": external data of type " + typeName(t.getDataType()) + " is not supported");
        }
        if (t.hasRawData() || stored(t, t.getDataType(), size) != 0) {
            throw new InvalidOnnx(what + ": its data_location is EXTERNAL but it also holds data in the model file");
        }
        String location = null;
        long offset = 0;
        long length = -1;
        Set<String> seen = new HashSet<>();
        for (StringStringEntryProto e : t.getExternalDataList()) {
            String key = e.getKey();
            if (!seen.add(key)) {
                throw new InvalidOnnx(what + ": external_data has key '" + abbreviate(key) + "' twice");
            }
            switch (key) {
                case "location" -> location = e.getValue();
                case "offset" -> offset = nonNegative(e.getValue(), "offset", what);
                case "length" -> length = nonNegative(e.getValue(), "length", what);
                case "checksum" -> { } // optional, and not verified by ONNX's own loaders either
                default -> throw new InvalidOnnx(what + ": unknown external_data key '" + abbreviate(key)
                        + "' (known: location, offset, length, checksum)");
            }
        }
        if (location == null || location.isEmpty()) {
            throw new InvalidOnnx(what + ": external data without a location");
        }
        long bytes = Math.multiplyHigh(elements, size) != 0 ? -1 : elements * size;
        if (bytes < 0) {
            throw new InvalidOnnx(what + ": " + elements + " elements are more bytes than a file can hold");
        }
        if (length >= 0 && length != bytes) {
            throw new InvalidOnnx(what + ": external data length " + length + " but " + describeShape(t.getDimsList().stream()
                    .mapToLong(Long::longValue).toArray()) + " of " + typeName(t.getDataType()) + " is " + bytes + " bytes");
        }
        Path file = insideFolder(folder, location, what);
        long fileSize;
        try {
            fileSize = Files.size(file);
        } catch (IOException e) {
            throw new InvalidOnnx(what + ": cannot read the size of external data file '" + abbreviate(location) + "': " + e, e);
        }
        if (offset > fileSize || bytes > fileSize - offset) {
            throw new InvalidOnnx(what + ": external data file '" + abbreviate(location) + "' holds " + fileSize + " bytes, too few for "
                    + bytes + " bytes at offset " + offset);
        }
        return new ExternalData(file, offset, bytes);
    }

    /**
     * {@code location} resolved in {@code folder}, refused unless it names a regular file inside it:
     * an absolute path, {@code ..} that leaves the folder, or a symbolic link that points out of it
     * would let a model file make deepnet read any file the process may read.
     */
    static Path insideFolder(Path folder, String location, String what) throws InvalidOnnx {
        Path relative;
        try {
            relative = Path.of(location);
        } catch (InvalidPathException e) {
            throw new InvalidOnnx(what + ": external data location '" + abbreviate(location) + "' is not a valid path");
        }
        if (relative.isAbsolute() || relative.getRoot() != null) {
            throw new InvalidOnnx(what + ": external data location '" + abbreviate(location)
                    + "' is absolute; it must be relative to the model's folder");
        }
        Path base = folder.toAbsolutePath().normalize();
        Path file = base.resolve(relative).normalize();
        if (!file.startsWith(base) || file.equals(base)) {
            throw new InvalidOnnx(what + ": external data location '" + abbreviate(location) + "' leaves the model's folder");
        }
        try {
            Path realBase = base.toRealPath();
            Path real = file.toRealPath();
            if (!real.startsWith(realBase)) {
                throw new InvalidOnnx(what + ": external data location '" + abbreviate(location)
                        + "' is a link that leaves the model's folder");
            }
            if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
                throw new InvalidOnnx(what + ": external data location '" + abbreviate(location) + "' is not a regular file");
            }
            return real;
        } catch (IOException e) {
            throw new InvalidOnnx(what + ": external data file '" + abbreviate(location) + "' cannot be opened: " + e.getMessage());
        }
    }

    private static long nonNegative(String value, String key, String what) throws InvalidOnnx {
        try {
            long v = Long.parseLong(value);
            if (v >= 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new InvalidOnnx(what + ": external_data " + key + " must be a whole number >= 0, got '" + abbreviate(value) + "'");
    }

    String name() {
        return name;
    }

    int dataType() {
        return proto.getDataType();
    }

    long[] dims() {
        return dims.clone();
    }

    int rank() {
        return dims.length;
    }

    long elements() {
        return elements;
    }

    /** The dimensions as a deepnet shape; a scalar is (1). */
    Shape shape() {
        return dims.length == 0 ? Shape.of(1) : Shape.of(dims);
    }

    boolean isExternal() {
        return external != null;
    }

    /** The values of a small INT64 tensor (shapes, axes); {@code max} bounds how many may be asked for. */
    long[] int64s(int max, String what) throws InvalidOnnx {
        require(INT64, what);
        if (elements > max) {
            throw new InvalidOnnx(what + " holds " + elements + " values, more than the " + max + " expected");
        }
        long[] out = new long[(int) elements];
        if (external != null) {
            ByteBuffer b = readExternal().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < out.length; i++) {
                out[i] = b.getLong(i * 8);
            }
        } else if (proto.hasRawData()) {
            ByteBuffer b = proto.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < out.length; i++) {
                out[i] = b.getLong(i * 8);
            }
        } else {
            for (int i = 0; i < out.length; i++) {
                out[i] = proto.getInt64Data(i);
            }
        }
        return out;
    }

    /** The one value of a FLOAT scalar (or one-element tensor). */
    float scalarFloat(String what) throws InvalidOnnx {
        require(FLOAT, what);
        if (elements != 1) {
            throw new InvalidOnnx(what + " must hold one value, holds " + elements);
        }
        return floats().get(0);
    }

    /** The one value of a BOOL scalar. */
    boolean scalarBool(String what) throws InvalidOnnx {
        require(BOOL, what);
        if (elements != 1) {
            throw new InvalidOnnx(what + " must hold one value, holds " + elements);
        }
        if (external != null) {
            return readExternal().get(0) != 0;
        }
        return proto.hasRawData() ? proto.getRawData().byteAt(0) != 0 : proto.getInt32Data(0) != 0;
    }

    /** Throws unless the element type is {@code type}. */
    void require(int type, String what) throws InvalidOnnx {
        if (proto.getDataType() != type) {
            throw new InvalidOnnx(what + " must be " + typeName(type) + ", is " + typeName(proto.getDataType()));
        }
    }

    /**
     * The values of a FLOAT tensor, in order: a view of the model file's bytes where they are raw,
     * else a buffer filled from the typed field or the external file.
     */
    FloatBuffer floats() throws InvalidOnnx {
        if (external != null) {
            return readExternal().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        }
        if (proto.hasRawData()) {
            ByteString raw = proto.getRawData();
            return raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        }
        FloatBuffer out = FloatBuffer.allocate(Math.toIntExact(elements));
        for (int i = 0; i < elements; i++) {
            out.put(i, proto.getFloatData(i));
        }
        return out;
    }

    /** Copies a FLOAT tensor's values, in order, into {@code target} (row-major f32, as many elements). */
    void copyTo(MemorySegment target) throws InvalidOnnx {
        if (external != null) {
            // Straight from the file into the tensor: no heap copy, however large.
            try (FileChannel ch = FileChannel.open(external.file(), StandardOpenOption.READ)) {
                ByteBuffer dst = target.asByteBuffer();
                long position = external.offset();
                while (dst.hasRemaining()) {
                    int n = ch.read(dst, position);
                    if (n < 0) {
                        throw new InvalidOnnx("tensor '" + name + "': external data file " + external.file().getFileName()
                                + " ended early (changed since it was checked?)");
                    }
                    position += n;
                }
            } catch (IOException e) {
                throw new InvalidOnnx("tensor '" + name + "': reading external data file " + external.file().getFileName()
                        + " failed: " + e, e);
            }
            return;
        }
        target.asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer().put(floats());
    }

    private ByteBuffer readExternal() throws InvalidOnnx {
        if (external.length() > Integer.MAX_VALUE - 8) {
            throw new InvalidOnnx("tensor '" + name + "' is " + external.length() + " bytes, too many to transform in memory");
        }
        ByteBuffer b = ByteBuffer.allocate((int) external.length());
        try (FileChannel ch = FileChannel.open(external.file(), StandardOpenOption.READ)) {
            long position = external.offset();
            while (b.hasRemaining()) {
                int n = ch.read(b, position);
                if (n < 0) {
                    throw new InvalidOnnx("tensor '" + name + "': external data file ended early (changed since it was checked?)");
                }
                position += n;
            }
        } catch (IOException e) {
            throw new InvalidOnnx("tensor '" + name + "': reading external data failed: " + e, e);
        }
        return b.flip();
    }

    static String typeName(int type) {
        TensorProto.DataType t = TensorProto.DataType.forNumber(type);
        return t == null ? "data type " + type : t.name();
    }

    static String describeShape(long[] dims) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(dims[i]);
        }
        return sb.append(')').toString();
    }

    static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
