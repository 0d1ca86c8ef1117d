import Foundation
import Testing

@testable import KarbonetesMetrics

@Suite("Metrics updated from many threads")
struct StripedSeriesTests {
    @Test("counts from many threads add up exactly, in value() and in the rendering")
    func concurrentCounts() {
        let registry = MetricsRegistry()
        let counter = registry.counter("test_hits_total", help: "hits", labelNames: ["path"])
        let histogram = registry.histogram("test_seconds", help: "latency", buckets: [0.1, 1])
        DispatchQueue.concurrentPerform(iterations: 16) { thread in
            for index in 0..<10_000 {
                counter.increment(labels: ["path": index % 2 == 0 ? "/a" : "/b"])
                histogram.observe(thread % 2 == 0 ? 0.05 : 0.5)
            }
        }
        #expect(counter.value(labels: ["path": "/a"]) == 80_000)
        #expect(counter.value(labels: ["path": "/b"]) == 80_000)
        #expect(histogram.count() == 160_000)
        let text = registry.render()
        #expect(text.contains("test_hits_total{path=\"/a\"} 80000\n"))
        #expect(text.contains("test_seconds_bucket{le=\"0.1\"} 80000\n"))
        #expect(text.contains("test_seconds_count 160000\n"))
    }
}
