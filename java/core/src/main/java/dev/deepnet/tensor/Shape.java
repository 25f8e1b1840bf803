package dev.deepnet.tensor;

import java.util.Arrays;

/**
 * The dimensions of a tensor, outermost first: (N, C, H, W) for images, (N, features) for
 * vectors, (out, in) for dense weights. Immutable; every dimension is positive.
 */
public final class Shape {

    private final long[] dims;
    private final long size;
    private final long byteSize;

    private Shape(long[] dims) {
        if (dims.length == 0) {
            throw new IllegalArgumentException("a shape needs at least one dimension");
        }
        long size = 1;
        for (long d : dims) {
            if (d <= 0) {
                throw new IllegalArgumentException("dimensions must be positive, got " + Arrays.toString(dims));
            }
            try {
                size = Math.multiplyExact(size, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("shape " + Arrays.toString(dims) + " has more elements than a long can count");
            }
        }
        if (size > Long.MAX_VALUE / Float.BYTES) {
            throw new IllegalArgumentException("shape " + Arrays.toString(dims) + " needs more bytes than can be addressed");
        }
        this.dims = dims;
        this.size = size;
        this.byteSize = Math.multiplyExact(size, (long) Float.BYTES);
    }

    public static Shape of(long... dims) {
        return new Shape(dims.clone());
    }

    public static Shape of(int... dims) {
        return new Shape(Arrays.stream(dims).asLongStream().toArray());
    }

    /** Number of dimensions. */
    public int rank() {
        return dims.length;
    }

    /** Dimension {@code i}, 0 outermost; throws {@link IndexOutOfBoundsException} naming this shape when there is none. */
    public long dim(int i) {
        return dims[checkIndex(i)];
    }

    /** Dimension {@code i} as an int, for loops over it; throws when it does not fit. */
    public int intDim(int i) {
        return Math.toIntExact(dims[checkIndex(i)]);
    }

    /** The dimensions (a copy). */
    public long[] dims() {
        return dims.clone();
    }

    /** Number of elements. */
    public long size() {
        return size;
    }

    /** Bytes of f32 data. */
    public long byteSize() {
        return byteSize;
    }

    /**
     * This shape with dimension {@code i} replaced, e.g. another batch size. Throws
     * {@link IndexOutOfBoundsException} when the shape has no dimension {@code i}, and
     * {@link IllegalArgumentException} when {@code value} is not positive.
     */
    public Shape withDim(int i, long value) {
        long[] d = dims.clone();
        d[checkIndex(i)] = value;
        return new Shape(d);
    }

    /** {@code i} when it names a dimension; otherwise an exception naming the shape, not just an array length. */
    private int checkIndex(int i) {
        if (i < 0 || i >= dims.length) {
            throw new IndexOutOfBoundsException("shape " + this + " of rank " + dims.length + " has no dimension " + i
                    + " (dimensions are 0 to " + (dims.length - 1) + ")");
        }
        return i;
    }

    /** (n, this...): a sample shape with a batch dimension in front. */
    public Shape batched(long n) {
        long[] d = new long[dims.length + 1];
        d[0] = n;
        System.arraycopy(dims, 0, d, 1, dims.length);
        return new Shape(d);
    }

    /** This shape without dimension 0: one sample of a batch. */
    public Shape sample() {
        if (dims.length < 2) {
            throw new IllegalArgumentException("shape " + this + " has no dimensions after the batch dimension");
        }
        return new Shape(Arrays.copyOfRange(dims, 1, dims.length));
    }

    /** Row-major strides in elements. */
    public long[] strides() {
        long[] s = new long[dims.length];
        long stride = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = stride;
            stride *= dims[i];
        }
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** E.g. {@code (2, 3, 17, 19)}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(dims[i]);
        }
        return sb.append(')').toString();
    }
}
