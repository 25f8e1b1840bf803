package dev.deepnet.ops;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BackendReportTest {

    @Test
    void reportsOneDnnAndASelfCheckThatMatchesJava() {
        BackendReport report = BackendReport.collect();
        assertNull(report.failure(), "oneDNN should load here");
        assertTrue(report.onednnVersion().startsWith("3.8.1 "), report.onednnVersion());
        assertNotNull(report.cpuIsa());
        BackendReport.SelfCheck check = report.selfCheck();
        assertTrue(check.maxRelativeError() <= 1e-4, "self-check error " + check.maxRelativeError());
        assertTrue(check.executeMillis() > 0, "timed");
        assertTrue(check.implementation().contains(":"), "oneDNN names its implementation: " + check.implementation());
    }
}
