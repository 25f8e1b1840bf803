package dev.deepnet.dnnl.generator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.deepnet.dnnl.generator.ConstantExpression.NotConstant;
import dev.deepnet.dnnl.generator.ConstantExpression.Value;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConstantExpressionTest {

    private static Value eval(String expr) throws NotConstant {
        Map<String, Value> names = Map.of("A", new Value(3, false, false), "BIG", new Value(1L << 40, true, false));
        return ConstantExpression.evaluate(CToken.tokenize(expr, "test.h"), names,
                t -> switch (t) {
                    case "size_t" -> -8;
                    case "int64_t", "dnnl_dim_t" -> 8;
                    case "uint8_t" -> -1;
                    default -> null;
                });
    }

    @ParameterizedTest(name = "{0} = {1} (long: {2})")
    @CsvSource(delimiter = ';', value = {
            "42; 42; false",
            "0x10; 16; false",
            "010; 8; false",
            "7u; 7; false",
            "0xffffffff; 4294967295; false",
            "1L; 1; true",
            "2147483648; 2147483648; true",
            "(-9223372036854775807L -1); -9223372036854775808; true",
            "((size_t)(-9223372036854775807L -1)); -9223372036854775808; true",
            "((dnnl_dim_t)-1); -1; true",
            "(uint8_t)257; 1; false",
            "1 << 10; 1024; false",
            "A * (A + 1); 12; false",
            "A | 0x100; 259; false",
            "BIG + 1; 1099511627777; true",
            "~0; -1; false",
            "-A; -3; false",
            "(int)(A > 2 ? 5 : 6); 5; false",
            "!0 + (3 == 3) + (2 != 2); 2; false",
            "(unsigned long long)1 << 63; -9223372036854775808; true",
    })
    void evaluatesIntegerConstantExpressions(String expr, long value, boolean isLong) throws NotConstant {
        Value v = eval(expr);
        assertEquals(value, v.value(), expr);
        assertEquals(isLong, v.isLong(), expr);
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
            "(void *)0",
            "((void *)(size_t)-1)",
            "1.5f",
            "UNKNOWN_NAME",
            "x.f",
            "1 / 0",
            "(1",
    })
    void rejectsWhatIsNoIntegerConstant(String expr) {
        assertThrows(NotConstant.class, () -> eval(expr), expr);
    }
}
