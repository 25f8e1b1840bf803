package dev.deepnet.tensor;

/**
 * How a tensor's elements sit in memory when they are not row-major: a backend's own layout,
 * such as oneDNN's channels-blocked {@code aBcd16b} (nChw16c) or channels-last {@code acdb}.
 *
 * <p>A plan asks a backend which layout an op wants its output in, allocates
 * the buffer in it ({@link TensorArena#allocate(Shape, Layout)}) and passes it to the ops that take
 * it, so consecutive ops that agree on a layout never convert between them. Such a tensor's
 * element accessors refuse to work (its memory is not row-major): convert it with
 * {@code Ops.reorder} into a row-major tensor to read it. A row-major tensor has no layout
 * ({@link Tensor#layout()} is null).
 *
 * @param tag the layout's oneDNN format tag: letters for dimensions from outermost to innermost,
 *     upper case when split in blocks, then the blocks (e.g. {@code aBcd16b})
 * @param byteSize bytes a tensor of its shape needs in this layout (blocked layouts pad)
 */
public record Layout(String tag, long byteSize) {

    public Layout {
        if (tag == null || !tag.matches("[a-lA-L]+(?:[0-9]+[a-l])*")) {
            throw new IllegalArgumentException("not a layout tag: " + tag);
        }
        if (byteSize < 0) {
            throw new IllegalArgumentException("a layout's size must not be negative, got " + byteSize);
        }
    }

    @Override
    public String toString() {
        return tag;
    }
}
