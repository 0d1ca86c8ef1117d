import Foundation
import KarbonetesModels
import SignalHTTP
import Testing

@Suite("The hand-written /v1/signal body")
struct SignalJSONTests {
    static let base = CarbonSignal(
        region: "default", intensity: 380, green: false, rule: "static window 10:00-16:00 UTC",
        windowStart: at("2026-12-03T16:00:00Z"),
        windowEnd: at("2026-12-04T10:00:00Z"), nextGreenStart: at("2026-12-04T10:00:00Z"),
        observedAt: at("2026-12-03T21:23:52Z"),
        source: "static", stale: false, ageSeconds: 1.002)

    static let cases: [CarbonSignal] = {
        var cases = [base]
        var stale = base
        stale.stale = true
        stale.green = true
        stale.threshold = 202.5
        stale.nextGreenStart = nil
        stale.ageSeconds = 1e-05
        stale.intensity = 0.1 + 0.2
        cases.append(stale)
        var odd = base
        odd.region = "eu-west \"quoted\" \\ back/slash\n\t\u{01}é€😀"
        odd.rule = "lowest 30% of the next 24h (intensity <= 123.4)"
        odd.intensity = 1e20
        odd.ageSeconds = 123456.789
        odd.threshold = 0
        odd.observedAt = Date(timeIntervalSince1970: 1_796_000_000.75)
        cases.append(odd)
        var tiny = base
        tiny.intensity = Double.leastNonzeroMagnitude
        tiny.ageSeconds = 0
        cases.append(tiny)
        return cases
    }()

    @Test("it is byte for byte what JSONEncoder writes", arguments: cases)
    func matchesEncoder(_ signal: CarbonSignal) throws {
        let reference = try KubernetesJSON.encoder.encode(signal)
        let handWritten = SignalJSON.encode(signal)
        #expect(String(decoding: handWritten, as: UTF8.self) == String(decoding: reference, as: UTF8.self))
        #expect(try KubernetesJSON.decoder.decode(CarbonSignal.self, from: handWritten).region == signal.region)
    }
}
