package dev.deepnet.io;

import dev.deepnet.tensor.Shape;
import dev.deepnet.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * An open safetensors file whose header has been read and validated in full: every tensor's
 * dtype, shape and byte range is known to be consistent, and together the tensors cover the data
 * buffer exactly. So a caller can check names, shapes and dtypes against a model first and only
 * then copy, and a malformed file fails in {@link SafeTensors#read} before anything is changed.
 *
 * <p>Tensor data is read from the file on demand ({@link #copyTo}, {@link #load}), through a
 * small staging buffer, converted from little-endian to the platform's order. The file stays
 * open until {@link #close()}. Reading is safe from several threads at once.
 */
public final class SafeTensorsFile implements AutoCloseable {

    /** Largest header accepted, as the reference implementation: 100 MB. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    /** The key of the string-to-string metadata object in the header. */
    public static final String METADATA_KEY = "__metadata__";

    static final ValueLayout.OfFloat LITTLE_ENDIAN_F32 =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final int STAGING_BYTES = 1 << 20; // a multiple of 4 and 8

    /** One header entry; {@code begin} and {@code end} are relative to the data buffer. */
    private record Entry(String name, Dtype dtype, long[] dims, long begin, long end) {}

    private final Path file;
    private final FileChannel channel;
    private final long dataStart; // 8 + header length: where the data buffer begins in the file
    private final long dataSize;
    private final Map<String, Entry> entries; // header order
    private final List<String> names;
    private final Map<String, String> metadata;
    private volatile boolean closed;

    private SafeTensorsFile(Path file, FileChannel channel, long dataStart, long dataSize, Map<String, Entry> entries,
            Map<String, String> metadata) {
        this.file = file;
        this.channel = channel;
        this.dataStart = dataStart;
        this.dataSize = dataSize;
        this.entries = entries;
        this.names = List.copyOf(entries.keySet());
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Opens {@code file} and validates its whole header; see {@link SafeTensors#read}. */
    static SafeTensorsFile open(Path file) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            return parse(file, channel);
        } catch (IOException | RuntimeException | Error e) {
            try {
                channel.close();
            } catch (IOException c) {
                e.addSuppressed(c);
            }
            throw e;
        }
    }

    // ---------------------------------------------------------------- reading the header

    private static SafeTensorsFile parse(Path file, FileChannel channel) throws IOException {
        long fileSize = channel.size();
        if (fileSize < 8) {
            throw new SafeTensorsException(file, "file of " + fileSize
                    + " bytes is too short: a safetensors file starts with an 8-byte header length");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, channel, lengthBytes, 0, "the header length");
        long headerLength = lengthBytes.getLong(0); // a u64: negative here means >= 2^63
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw new SafeTensorsException(file, "header length " + Long.toUnsignedString(headerLength)
                    + " (bytes 0-7) exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (8 + headerLength > fileSize) {
            throw new SafeTensorsException(file, "header length " + headerLength + " exceeds file size " + fileSize
                    + " (the header would end at byte " + (8 + headerLength) + ")");
        }
        if (headerLength == 0) {
            throw new SafeTensorsException(file, "header length is 0; the header must be a JSON object starting with '{' at byte 8");
        }
        ByteBuffer header = ByteBuffer.allocate((int) headerLength);
        readFully(file, channel, header, 8, "the header");
        byte first = header.get(0);
        if (first != '{') {
            throw new SafeTensorsException(file, "header must be a JSON object starting with '{' at byte 8, found "
                    + describeByte(first));
        }
        String json = decodeUtf8(file, header.flip());
        Object root;
        try {
            root = Json.parse(json);
        } catch (Json.SyntaxException e) {
            long at = 8 + json.substring(0, e.index).getBytes(StandardCharsets.UTF_8).length;
            throw new SafeTensorsException(file, "invalid header JSON at byte " + at + ": " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> members)) {
            throw new SafeTensorsException(file, "header must be a JSON object, found " + kind(root)); // cannot happen after '{'
        }

        long dataStart = 8 + headerLength;
        long dataSize = fileSize - dataStart;
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<?, ?> member : members.entrySet()) {
            String key = (String) member.getKey();
            if (key.equals(METADATA_KEY)) {
                readMetadata(file, member.getValue(), metadata);
            } else {
                entries.put(key, readEntry(file, key, member.getValue(), dataSize));
            }
        }
        checkCoverage(file, entries.values(), dataStart, dataSize);
        return new SafeTensorsFile(file, channel, dataStart, dataSize, entries, metadata);
    }

    private static String decodeUtf8(Path file, ByteBuffer bytes) throws SafeTensorsException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        CharBuffer chars = CharBuffer.allocate(bytes.remaining());
        CoderResult result = decoder.decode(bytes, chars, true);
        if (result.isUnderflow()) {
            result = decoder.flush(chars);
        }
        if (result.isError()) {
            int at = bytes.position();
            throw new SafeTensorsException(file, "header is not valid UTF-8: " + (result.isMalformed() ? "malformed" : "unmappable")
                    + " sequence of " + result.length() + " byte(s) starting with 0x"
                    + String.format("%02X", bytes.get(at) & 0xff) + " at byte " + (8 + at));
        }
        if (!result.isUnderflow()) {
            try {
                result.throwException(); // overflow cannot happen: one char per byte at most
            } catch (CharacterCodingException e) {
                throw new SafeTensorsException(file, "header could not be decoded as UTF-8", e);
            }
        }
        return chars.flip().toString();
    }

    private static void readMetadata(Path file, Object value, Map<String, String> into) throws SafeTensorsException {
        if (value == Json.NULL) {
            return; // what the reference implementation reads as "no metadata"
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw new SafeTensorsException(file, METADATA_KEY + " must be an object of strings, found " + kind(value));
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new SafeTensorsException(file, METADATA_KEY + ": value of " + Json.quote((String) e.getKey())
                        + " must be a string, found " + kind(e.getValue()));
            }
            into.put((String) e.getKey(), s);
        }
    }

    private static Entry readEntry(Path file, String name, Object value, long dataSize) throws SafeTensorsException {
        String where = "tensor " + quoteName(name) + ": ";
        if (!(value instanceof Map<?, ?> fields)) {
            throw new SafeTensorsException(file, where + "expected an object {\"dtype\", \"shape\", \"data_offsets\"}, found "
                    + kind(value));
        }
        for (Object key : fields.keySet()) {
            if (!key.equals("dtype") && !key.equals("shape") && !key.equals("data_offsets")) {
                throw new SafeTensorsException(file, where + "unknown field " + Json.quote((String) key)
                        + " (a tensor has exactly \"dtype\", \"shape\" and \"data_offsets\")");
            }
        }
        Object dtypeValue = required(file, where, fields, "dtype");
        if (!(dtypeValue instanceof String dtypeName)) {
            throw new SafeTensorsException(file, where + "\"dtype\" must be a string, found " + kind(dtypeValue));
        }
        Dtype dtype = Dtype.byName(dtypeName);
        if (dtype == null) {
            throw new SafeTensorsException(file, where + "unknown dtype " + Json.quote(dtypeName)
                    + " (the format defines " + Dtype.all() + ")");
        }
        List<?> shapeList = array(file, where, fields, "shape");
        long[] dims = new long[shapeList.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = nonNegative(file, where, "shape", i, shapeList.get(i));
        }
        List<?> offsets = array(file, where, fields, "data_offsets");
        if (offsets.size() != 2) {
            throw new SafeTensorsException(file, where + "\"data_offsets\" must be [begin, end], found " + offsets.size()
                    + " number(s)");
        }
        long begin = nonNegative(file, where, "data_offsets", 0, offsets.get(0));
        long end = nonNegative(file, where, "data_offsets", 1, offsets.get(1));
        String range = "data_offsets [" + begin + ", " + end + "]";
        if (end < begin) {
            throw new SafeTensorsException(file, where + range + " end before they begin");
        }
        if (end > dataSize) {
            throw new SafeTensorsException(file, where + range + " run past the end of the " + dataSize
                    + "-byte data buffer");
        }
        long elements = 1;
        for (long d : dims) {
            if (d == 0) {
                elements = 0;
                break;
            }
        }
        long bits;
        try {
            if (elements != 0) {
                for (long d : dims) {
                    elements = Math.multiplyExact(elements, d);
                }
            }
            bits = Math.multiplyExact(elements, (long) dtype.bits);
        } catch (ArithmeticException e) {
            throw new SafeTensorsException(file, where + "shape " + shapeText(dims) + " of " + dtype
                    + " needs more bytes than a long can count");
        }
        if (bits % 8 != 0) {
            throw new SafeTensorsException(file, where + "shape " + shapeText(dims) + " of " + dtype + " is " + bits
                    + " bits, not a whole number of bytes");
        }
        long bytes = bits / 8;
        if (end - begin != bytes) {
            throw new SafeTensorsException(file, where + range + " hold " + (end - begin) + " bytes but shape "
                    + shapeText(dims) + " of " + dtype + " needs " + bytes);
        }
        return new Entry(name, dtype, dims, begin, end);
    }

    /** The spec's rule: the tensors' byte ranges tile the data buffer, no holes, no overlaps. */
    private static void checkCoverage(Path file, Iterable<Entry> all, long dataStart, long dataSize) throws SafeTensorsException {
        List<Entry> sorted = new ArrayList<>();
        all.forEach(sorted::add);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long covered = 0; // the data buffer is covered from 0 to here
        Entry last = null; // the tensor that ends at 'covered'
        for (Entry e : sorted) {
            if (e.begin > covered) {
                throw new SafeTensorsException(file, "data buffer bytes [" + covered + ", " + e.begin + ") (file bytes ["
                        + (dataStart + covered) + ", " + (dataStart + e.begin) + ")) belong to no tensor (a hole before tensor " + quoteName(e.name) + " at [" + e.begin + ", " + e.end
                        + "]); the tensors must cover the data buffer without gaps");
            }
            if (e.begin < covered) {
                throw new SafeTensorsException(file, "tensor " + quoteName(e.name) + " data_offsets [" + e.begin + ", " + e.end
                        + "] overlap tensor " + quoteName(last.name) + " data_offsets [" + last.begin + ", " + last.end + "]");
            }
            covered = e.end;
            last = e;
        }
        if (covered != dataSize) {
            throw new SafeTensorsException(file, "data buffer bytes [" + covered + ", " + dataSize + ") (file bytes ["
                    + (dataStart + covered) + ", " + (dataStart + dataSize)
                    + ")) after the last tensor belong to no tensor; the tensors must cover the data buffer to its end");
        }
    }

    private static Object required(Path file, String where, Map<?, ?> fields, String key) throws SafeTensorsException {
        Object v = fields.get(key);
        if (v == null) {
            throw new SafeTensorsException(file, where + "missing " + Json.quote(key));
        }
        return v;
    }

    private static List<?> array(Path file, String where, Map<?, ?> fields, String key) throws SafeTensorsException {
        Object v = required(file, where, fields, key);
        if (!(v instanceof List<?> list)) {
            throw new SafeTensorsException(file, where + Json.quote(key) + " must be an array of integers, found " + kind(v));
        }
        return list;
    }

    private static long nonNegative(Path file, String where, String field, int index, Object v) throws SafeTensorsException {
        String what = Json.quote(field) + "[" + index + "] ";
        if (!(v instanceof Json.Num n) || !n.integer()) {
            throw new SafeTensorsException(file, where + what + "must be a non-negative integer, found " + kind(v));
        }
        if (n.text().startsWith("-")) {
            throw new SafeTensorsException(file, where + what + "must be a non-negative integer, found " + kind(v));
        }
        try {
            return Long.parseLong(n.text());
        } catch (NumberFormatException e) {
            throw new SafeTensorsException(file, where + what + abbreviate(n.text()) + " is too large (at most "
                    + Long.MAX_VALUE + ")");
        }
    }

    private static String kind(Object v) {
        if (v instanceof Map<?, ?>) {
            return "an object";
        }
        if (v instanceof List<?>) {
            return "an array";
        }
        if (v instanceof String s) {
            return "string " + abbreviate(Json.quote(s));
        }
        if (v instanceof Json.Num n) {
            return "number " + abbreviate(n.text());
        }
        return String.valueOf(v); // true, false, null
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }

    private static String describeByte(byte b) {
        int v = b & 0xff;
        return String.format("0x%02X", v) + (v >= 0x20 && v < 0x7f ? " '" + (char) v + "'" : "");
    }

    /** A tensor name for messages: single-quoted, with JSON escapes for anything unprintable. */
    static String quoteName(String name) {
        String q = Json.quote(name);
        return "'" + q.substring(1, q.length() - 1) + "'";
    }

    /** A shape in deepnet's notation: (3, 4); a vector (3); a scalar (). */
    static String shapeText(long[] dims) {
        return Arrays.stream(dims).mapToObj(Long::toString).collect(Collectors.joining(", ", "(", ")"));
    }

    private static void readFully(Path file, FileChannel channel, ByteBuffer into, long position, String what)
            throws IOException {
        long at = position;
        while (into.hasRemaining()) {
            int n = channel.read(into, at);
            if (n < 0) {
                throw new SafeTensorsException(file, "file ended at byte " + at + " while reading " + what
                        + " (was it changed since it was opened?)");
            }
            at += n;
        }
    }

    // ---------------------------------------------------------------- what the file holds

    /** The file this was read from. */
    public Path file() {
        return file;
    }

    /** The tensor names, in the order the header lists them (for files deepnet wrote: the order written). */
    public List<String> names() {
        return names;
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** The {@code __metadata__} map, in header order; empty when the file has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The tensor's dtype as the header spells it: "F32", "BF16", "I64", ... */
    public String dtype(String name) throws SafeTensorsException {
        return entry(name).dtype.name();
    }

    /** The tensor's dimensions as the header gives them; {@code []} for a scalar, zeros allowed. */
    public long[] dims(String name) throws SafeTensorsException {
        return entry(name).dims.clone();
    }

    /**
     * The tensor's shape as a deepnet {@link Shape}. Throws for a scalar (shape {@code []}) and
     * for a tensor with a zero dimension, which {@code Shape} cannot represent; {@link #dims}
     * gives those.
     */
    public Shape shape(String name) throws SafeTensorsException {
        Entry e = entry(name);
        if (e.dims.length == 0) {
            throw new SafeTensorsException(file, "tensor " + quoteName(name)
                    + " is a scalar (shape []), which a deepnet Shape cannot hold");
        }
        for (long d : e.dims) {
            if (d == 0) {
                throw new SafeTensorsException(file, "tensor " + quoteName(name) + " has shape " + shapeText(e.dims)
                        + " with no elements, which a deepnet Shape cannot hold");
            }
        }
        return Shape.of(e.dims);
    }

    /**
     * Copies the tensor's data into {@code destination}, whose shape must equal the tensor's and
     * whose dtype must be F32. Everything is checked before the first byte is written; the
     * destination is changed only if the file itself changes on disk during the copy (then a
     * short read throws).
     */
    public void copyTo(String name, Tensor destination) throws IOException {
        Entry e = entry(name);
        requireF32(e);
        Shape target = destination.shape();
        if (!Arrays.equals(e.dims, target.dims())) {
            throw new SafeTensorsException(file, "tensor " + quoteName(name) + " has shape " + shapeText(e.dims)
                    + " but the destination has shape " + target);
        }
        MemorySegment out = destination.segment(); // throws IllegalStateException when closed
        ensureOpen();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = arena.allocate(Math.min(STAGING_BYTES, Math.max(8, e.end - e.begin)), 8);
            ByteBuffer buffer = staging.asByteBuffer();
            long total = e.end - e.begin;
            for (long done = 0; done < total; ) {
                int n = (int) Math.min(buffer.capacity(), total - done);
                buffer.clear().limit(n);
                readFully(file, channel, buffer, dataStart + e.begin + done, "tensor " + quoteName(name));
                MemorySegment.copy(staging, LITTLE_ENDIAN_F32, 0, out, ValueLayout.JAVA_FLOAT, done, n / Float.BYTES);
                done += n;
            }
        }
    }

    /** A new tensor holding a copy of the named F32 tensor; the caller closes it. */
    public Tensor load(String name) throws IOException {
        Entry e = entry(name);
        requireF32(e);
        Tensor t = Tensor.allocate(shape(name));
        try {
            copyTo(name, t);
            return t;
        } catch (IOException | RuntimeException | Error ex) {
            t.close();
            throw ex;
        }
    }

    private Entry entry(String name) throws SafeTensorsException {
        Entry e = entries.get(name);
        if (e == null) {
            String known = names.size() <= 10 ? String.join(", ", names.stream().map(SafeTensorsFile::quoteName).toList())
                    : names.stream().limit(10).map(SafeTensorsFile::quoteName).collect(Collectors.joining(", ")) + ", ...";
            throw new SafeTensorsException(file, "no tensor named " + quoteName(name) + " (the file holds " + names.size()
                    + (names.isEmpty() ? "" : ": " + known) + ")");
        }
        return e;
    }

    private void requireF32(Entry e) throws SafeTensorsException {
        if (e.dtype != Dtype.F32) {
            throw new SafeTensorsException(file, "tensor " + quoteName(e.name) + " has dtype " + e.dtype
                    + "; deepnet loads only F32 (convert it to float32 before saving, e.g. tensor.float() in PyTorch)");
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException(file + " is closed");
        }
    }

    /** Size in bytes of the data buffer (the file after its header). */
    long dataSize() {
        return dataSize;
    }

    /** Closes the file. The header stays readable; copying data throws {@link IllegalStateException}. */
    @Override
    public void close() throws IOException {
        closed = true;
        channel.close();
    }

    @Override
    public String toString() {
        return "SafeTensorsFile[" + file + ", " + names.size() + " tensors" + (closed ? ", closed" : "") + "]";
    }
}
