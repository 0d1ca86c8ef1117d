import Foundation
import KarbonetesMetrics
import Testing

@Suite("Metrics registry")
struct MetricsRegistryTests {
    @Test("asking twice for the same name and kind returns the same metric")
    func sameNameSameMetric() {
        let registry = MetricsRegistry()
        registry.counter("karbonetes_requests_total", help: "Requests.").increment()
        registry.counter("karbonetes_requests_total", help: "Requests.").increment(by: 2)
        #expect(registry.counter("karbonetes_requests_total", help: "Requests.").value() == 3)
    }

    struct CounterCase: Sendable, CustomTestStringConvertible {
        var increments: [(amount: Double, labels: [String: String])]
        var query: [String: String]
        var want: Double
        var testDescription: String { "\(increments.count) increments, query \(query) → \(want)" }
    }

    @Test(
        "a counter adds up increments per label set",
        arguments: [
            CounterCase(
                increments: [(1, ["code": "200"]), (1, ["code": "200"]), (1, ["code": "500"])],
                query: ["code": "200"],
                want: 2
            ),
            CounterCase(increments: [(1, ["code": "200"]), (2.5, ["code": "500"])], query: ["code": "500"], want: 2.5),
            CounterCase(increments: [(1, ["code": "200"])], query: ["code": "404"], want: 0),
        ]
    )
    func counterPerLabelSet(_ testCase: CounterCase) {
        let counter = MetricsRegistry().counter("requests_total", help: "h", labelNames: ["code"])
        for increment in testCase.increments { counter.increment(by: increment.amount, labels: increment.labels) }
        #expect(counter.value(labels: testCase.query) == testCase.want)
    }

    @Test("a gauge is set, moved up and down, and a removed series disappears from the output")
    func gaugeLifecycle() {
        let registry = MetricsRegistry()
        let held = registry.gauge("karbonetes_held_jobs", help: "Held Jobs.", labelNames: ["namespace"])
        held.set(4, labels: ["namespace": "a"])
        held.increment(labels: ["namespace": "a"])
        held.decrement(by: 2, labels: ["namespace": "a"])
        held.set(1, labels: ["namespace": "b"])
        #expect(held.value(labels: ["namespace": "a"]) == 3)
        held.remove(labels: ["namespace": "b"])
        let text = registry.render()
        #expect(text.contains("karbonetes_held_jobs{namespace=\"a\"} 3\n"))
        #expect(!text.contains("namespace=\"b\""))
    }

    struct HistogramCase: Sendable, CustomTestStringConvertible {
        var observations: [Double]
        var wantBuckets: [String]
        var testDescription: String { "observations \(observations)" }
    }

    @Test(
        "histogram buckets are cumulative and end with +Inf, _sum and _count",
        arguments: [
            HistogramCase(
                observations: [0.05, 0.2, 0.2, 3],
                wantBuckets: [
                    "latency_seconds_bucket{le=\"0.1\"} 1", "latency_seconds_bucket{le=\"0.5\"} 3",
                    "latency_seconds_bucket{le=\"1\"} 3", "latency_seconds_bucket{le=\"+Inf\"} 4",
                    "latency_seconds_sum 3.45", "latency_seconds_count 4",
                ]
            ),
            HistogramCase(
                observations: [0.1, 1],
                wantBuckets: [
                    "latency_seconds_bucket{le=\"0.1\"} 1", "latency_seconds_bucket{le=\"0.5\"} 1",
                    "latency_seconds_bucket{le=\"1\"} 2", "latency_seconds_bucket{le=\"+Inf\"} 2",
                    "latency_seconds_sum 1.1", "latency_seconds_count 2",
                ]
            ),
            HistogramCase(
                observations: [],
                wantBuckets: [
                    "latency_seconds_bucket{le=\"0.1\"} 0", "latency_seconds_bucket{le=\"0.5\"} 0",
                    "latency_seconds_bucket{le=\"1\"} 0", "latency_seconds_bucket{le=\"+Inf\"} 0",
                    "latency_seconds_sum 0", "latency_seconds_count 0",
                ]
            ),
        ]
    )
    func histogramBuckets(_ testCase: HistogramCase) {
        let registry = MetricsRegistry()
        let histogram = registry.histogram("latency_seconds", help: "Latency.", buckets: [0.1, 0.5, 1])
        for value in testCase.observations { histogram.observe(value) }
        let lines = registry.render().split(separator: "\n").map(String.init)
        #expect(
            lines == ["# HELP latency_seconds Latency.", "# TYPE latency_seconds histogram"] + testCase.wantBuckets
        )
        #expect(histogram.count() == UInt64(testCase.observations.count))
    }

    @Test("the exposition text is exact: sorted metrics and series, escaped label values and help")
    func exactRendering() {
        let registry = MetricsRegistry()
        let requests = registry.counter(
            "b_requests_total",
            help: "Requests by\npath \\ code.",
            labelNames: ["path", "code"]
        )
        requests.increment(labels: ["path": "/z", "code": "200"])
        requests.increment(by: 2, labels: ["path": "/a\"quoted\"\nnew\\line", "code": "500"])
        registry.gauge("a_temperature", help: "Gauge.").set(-1.5)
        let histogram = registry.histogram("c_seconds", help: "H.", labelNames: ["op"], buckets: [1])
        histogram.observe(0.5, labels: ["op": "x"])
        let want = """
            # HELP a_temperature Gauge.
            # TYPE a_temperature gauge
            a_temperature -1.5
            # HELP b_requests_total Requests by\\npath \\\\ code.
            # TYPE b_requests_total counter
            b_requests_total{path="/a\\"quoted\\"\\nnew\\\\line",code="500"} 2
            b_requests_total{path="/z",code="200"} 1
            # HELP c_seconds H.
            # TYPE c_seconds histogram
            c_seconds_bucket{op="x",le="1"} 1
            c_seconds_bucket{op="x",le="+Inf"} 1
            c_seconds_sum{op="x"} 0.5
            c_seconds_count{op="x"} 1

            """
        #expect(registry.render() == want)
        #expect(registry.render() == registry.render())
    }

    @Test("concurrent observations from many tasks are all counted")
    func concurrentObservations() async {
        let registry = MetricsRegistry()
        let histogram = registry.histogram("work_seconds", help: "h", labelNames: ["worker"])
        let counter = registry.counter("work_total", help: "h")
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for index in 0..<1000 {
                        histogram.observe(Double(index % 10) / 100, labels: ["worker": "\(worker % 2)"])
                        counter.increment()
                    }
                }
            }
        }
        #expect(counter.value() == 8000)
        #expect(histogram.count(labels: ["worker": "0"]) + histogram.count(labels: ["worker": "1"]) == 8000)
    }

    @Test("a populated registry passes promtool check metrics", PromtoolLocator.available)
    func promtoolAcceptsOutput() throws {
        let promtool = try #require(PromtoolLocator.find())
        let registry = MetricsRegistry()
        registry.counter(
            "karbonetes_admission_requests_total",
            help: "Admission requests by outcome.",
            labelNames: ["outcome"]
        )
        .increment(labels: ["outcome": "held \"later\"\nnext"])
        registry.gauge("karbonetes_grid_intensity_grams", help: "Carbon intensity \\ gCO2/kWh.", labelNames: ["zone"])
            .set(123.25, labels: ["zone": "DE"])
        let histogram = registry.histogram(
            "karbonetes_request_duration_seconds",
            help: "Request latency.",
            labelNames: ["path"]
        )
        for value in [0.001, 0.02, 0.3, 4, 50] { histogram.observe(value, labels: ["path": "/mutate"]) }
        _ = registry.gauge("karbonetes_untouched", help: "Never set.")
        let result = try PromtoolLocator.check(registry.render(), promtool: promtool)
        #expect(result.status == 0, "promtool said: \(result.output)")
    }

    @Test("promtool rejects a broken exposition, so the check above can fail", PromtoolLocator.available)
    func promtoolRejectsBrokenOutput() throws {
        let promtool = try #require(PromtoolLocator.find())
        let broken = "# TYPE x counter\nx{a=\"unterminated} 1\n"
        let result = try PromtoolLocator.check(broken, promtool: promtool)
        #expect(result.status != 0)
    }
}

@Suite("Metrics registry misuse")
struct MetricsMisuseTests {
    enum Misuse: String, Sendable, Codable, CaseIterable, CustomTestStringConvertible {
        case invalidMetricName, invalidLabelName, reservedLabelName, leOnHistogram, otherKind, unsortedBuckets
        var testDescription: String { rawValue }
    }

    @Test("a misused registry stops the program instead of exposing a broken /metrics", arguments: Misuse.allCases)
    func misuseTraps(_ misuse: Misuse) async {
        await #expect(processExitsWith: .failure) { [misuse] in
            let registry = MetricsRegistry()
            switch misuse {
            case .invalidMetricName: _ = registry.counter("requests-total", help: "h")
            case .invalidLabelName: _ = registry.counter("requests_total", help: "h", labelNames: ["status code"])
            case .reservedLabelName: _ = registry.gauge("queue", help: "h", labelNames: ["__name"])
            case .leOnHistogram: _ = registry.histogram("latency", help: "h", labelNames: ["le"])
            case .otherKind:
                _ = registry.counter("held_total", help: "h")
                _ = registry.gauge("held_total", help: "h")
            case .unsortedBuckets: _ = registry.histogram("latency", help: "h", buckets: [1, 0.5])
            }
        }
    }
}

/// Runs `promtool check metrics` on a text, reading it from standard input.
enum PromtoolLocator {
    /// Skips a test, saying why, on a machine without promtool; `make deps` installs it.
    static let available = ConditionTrait.enabled(
        if: find() != nil,
        "promtool not found on PATH: install the Debian package prometheus (scripts/deps/apt.txt)"
    )

    static func find() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/promtool"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static func check(_ text: String, promtool: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: promtool)
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
