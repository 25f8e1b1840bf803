package dev.deepnet.fuzz;

import dev.deepnet.fuzz.JsonSpans.Kind;
import dev.deepnet.fuzz.JsonSpans.Value;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Structure-aware edits of a JSON text: one number, string, key, array length, member or value
 * changed, everything else byte for byte as it was. The vocabulary makes the edits meaningful for
 * one format (dtype names for safetensors, layer kinds and node names for model architectures),
 * so the loader's checks are reached rather than its parser's.
 */
final class JsonMutations {

    /** A changed text and what was changed. */
    record Edit(String text, String description) {}

    /** Strings that are valid somewhere in no format, or break a naive reader. */
    private static final List<String> ODD_STRINGS = List.of("", " ", "A".repeat(300), "\u0000", "\u00e9", "\ud800",
            "null", "0", "-1", "__metadata__", "a.b", "\u2028");

    /** Values of every other kind, and nesting deeper than the loaders' JSON reader accepts (64). */
    private static final List<String> ODD_VALUES = List.of("null", "true", "false", "\"x\"", "{}", "[]", "[[]]", "1.5",
            "-1", "0", "{\"a\": 1}", "[1, 2, 3]", "[\"x\"]", "[".repeat(65) + "]".repeat(65),
            "[".repeat(5000) + "]".repeat(5000));

    private final List<String> strings;
    private final List<String> keys;

    /** {@code strings}: values worth writing where a string was; {@code keys}: member names worth writing over keys. */
    JsonMutations(List<String> strings, List<String> keys) {
        this.strings = List.copyOf(strings);
        this.keys = List.copyOf(keys);
    }

    /** One random edit of {@code json}, or null when it is not JSON the scanner follows or has no place for the edit. */
    Edit mutate(String json, RandomGenerator r) {
        Value root = JsonSpans.parse(json);
        if (root == null) {
            return null;
        }
        return switch (r.nextInt(9)) {
            case 0 -> replaceNumber(json, root, r);
            case 1 -> nudgeNumber(json, root, r);
            case 2 -> replaceString(json, root, r);
            case 3 -> replaceKey(json, root, r);
            case 4, 5 -> resizeArray(json, root, r);
            case 6 -> editMember(json, root, r);
            case 7 -> replaceValue(json, root, r);
            default -> copyValue(json, root, r);
        };
    }

    private static Edit replaceNumber(String json, Value root, RandomGenerator r) {
        Value n = pick(of(root, Kind.NUMBER), r);
        if (n == null) {
            return null;
        }
        String to = InterestingValues.jsonNumber(r);
        return splice(json, n, to, "number " + n.in(json) + " at char " + n.start() + " -> " + to);
    }

    /** Small arithmetic on an integer: off by one, negated, doubled, a thousand times larger. */
    private static Edit nudgeNumber(String json, Value root, RandomGenerator r) {
        Value n = pick(of(root, Kind.NUMBER), r);
        if (n == null) {
            return null;
        }
        long v;
        try {
            v = Long.parseLong(n.in(json));
        } catch (NumberFormatException notALong) {
            return null; // a fraction, an exponent or a huge number: replaceNumber covers those
        }
        long to = switch (r.nextInt(6)) {
            case 0 -> v + 1;
            case 1 -> v - 1;
            case 2 -> -v;
            case 3 -> 2 * v;
            case 4 -> v * 1000;
            default -> v + 1 + r.nextInt(64);
        };
        return splice(json, n, Long.toString(to), "number " + v + " at char " + n.start() + " -> " + to);
    }

    private Edit replaceString(String json, Value root, RandomGenerator r) {
        Value s = pick(of(root, Kind.STRING), r);
        if (s == null) {
            return null;
        }
        String to = r.nextInt(4) == 0 ? ODD_STRINGS.get(r.nextInt(ODD_STRINGS.size())) : strings.get(r.nextInt(strings.size()));
        String quoted = JsonSpans.quote(to);
        return splice(json, s, quoted, "string " + abbreviate(s.in(json)) + " at char " + s.start() + " -> " + abbreviate(quoted));
    }

    private Edit replaceKey(String json, Value root, RandomGenerator r) {
        Value k = pick(JsonSpans.keys(root), r);
        if (k == null) {
            return null;
        }
        String quoted = JsonSpans.quote(keys.get(r.nextInt(keys.size())));
        return splice(json, k, quoted, "key " + abbreviate(k.in(json)) + " at char " + k.start() + " -> " + quoted);
    }

    private static Edit resizeArray(String json, Value root, RandomGenerator r) {
        Value a = pick(of(root, Kind.ARRAY), r);
        if (a == null) {
            return null;
        }
        List<String> items = new ArrayList<>();
        for (Value c : a.children()) {
            items.add(c.in(json));
        }
        String what;
        int choice = items.isEmpty() ? 3 : r.nextInt(5);
        switch (choice) {
            case 0 -> {
                items.removeLast();
                what = "dropped its last element";
            }
            case 1 -> {
                int i = r.nextInt(items.size());
                items.add(i, items.get(i));
                what = "duplicated element " + i;
            }
            case 2 -> {
                items.clear();
                what = "emptied it";
            }
            case 3 -> {
                String n = InterestingValues.jsonNumber(r);
                items.add(n);
                what = "appended " + n;
            }
            default -> {
                int i = r.nextInt(items.size());
                items.remove(i);
                what = "removed element " + i;
            }
        }
        String to = "[" + String.join(", ", items) + "]";
        return splice(json, a, to, "array " + abbreviate(a.in(json)) + " at char " + a.start() + ": " + what);
    }

    /** Deletes or duplicates one member of an object (a duplicate key, or a missing field). */
    private static Edit editMember(String json, Value root, RandomGenerator r) {
        List<Value> objects = new ArrayList<>();
        for (Value v : of(root, Kind.OBJECT)) {
            if (!v.keys().isEmpty()) {
                objects.add(v);
            }
        }
        Value o = pick(objects, r);
        if (o == null) {
            return null;
        }
        List<String> members = new ArrayList<>();
        for (int i = 0; i < o.keys().size(); i++) {
            members.add(json.substring(o.keys().get(i).start(), o.children().get(i).end()));
        }
        int i = r.nextInt(members.size());
        String what;
        if (r.nextBoolean()) {
            what = "deleted member " + abbreviate(members.remove(i));
        } else {
            members.add(r.nextInt(members.size() + 1), members.get(i));
            what = "duplicated member " + abbreviate(members.get(i));
        }
        return splice(json, o, "{" + String.join(", ", members) + "}", "object at char " + o.start() + ": " + what);
    }

    private static Edit replaceValue(String json, Value root, RandomGenerator r) {
        List<Value> all = JsonSpans.values(root);
        Value v = all.get(r.nextInt(all.size()));
        String to = ODD_VALUES.get(r.nextInt(ODD_VALUES.size()));
        return splice(json, v, to, "value " + abbreviate(v.in(json)) + " at char " + v.start() + " -> " + abbreviate(to));
    }

    /** Writes one value over another, e.g. a shape over data offsets: well-formed, wrong in meaning. */
    private static Edit copyValue(String json, Value root, RandomGenerator r) {
        List<Value> all = JsonSpans.values(root);
        Value from = all.get(r.nextInt(all.size()));
        Value to = all.get(r.nextInt(all.size()));
        if (from.start() <= to.start() && to.end() <= from.end() || to.start() <= from.start() && from.end() <= to.end()) {
            return null; // one contains the other
        }
        return splice(json, to, from.in(json), "value at char " + to.start() + " -> copy of " + abbreviate(from.in(json))
                + " from char " + from.start());
    }

    // ---------------------------------------------------------------- helpers

    static List<Value> of(Value root, Kind kind) {
        List<Value> out = new ArrayList<>();
        for (Value v : JsonSpans.values(root)) {
            if (v.kind() == kind) {
                out.add(v);
            }
        }
        return out;
    }

    static <T> T pick(List<T> from, RandomGenerator r) {
        return from.isEmpty() ? null : from.get(r.nextInt(from.size()));
    }

    static Edit splice(String json, Value at, String with, String description) {
        return new Edit(json.substring(0, at.start()) + with + json.substring(at.end()), description);
    }

    static String abbreviate(String s) {
        String one = s.replace("\n", "\\n");
        return one.length() <= 48 ? one : one.substring(0, 45) + "...";
    }
}
