import Foundation
import KarbonetesCarbon
import Testing

@Suite("The best window to run in")
struct BestWindowTests {
    static let day = utc("2022-06-01T00:00:00Z")

    static func hourly(_ values: [Double]) -> CarbonTrace {
        // Literal test traces are valid.
        try! CarbonTrace.evenlySpaced(start: day, step: 3600, intensities: values)
    }

    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var intensities: [Double]
        var duration: Double
        var notBefore: Double
        var notAfter: Double
        var wantStart: Double?
        var wantMean: Double?
    }

    static let cases: [Case] = [
        Case(description: "the lowest whole hour", intensities: [300, 200, 100, 250], duration: 1, notBefore: 0, notAfter: 3, wantStart: 2, wantMean: 100),
        Case(
            description: "a start one boundary minus the duration before the dirty hour, not on any step boundary",
            intensities: [50, 0, 200], duration: 1.5, notBefore: 0, notAfter: 1.5, wantStart: 0.5, wantMean: 25 / 1.5),
        Case(
            description: "notBefore itself when the range starts inside the best segment", intensities: [300, 10, 10, 300], duration: 1,
            notBefore: 1.25, notAfter: 2.5, wantStart: 1.25, wantMean: 10),
        Case(description: "notAfter when the trace only gets greener", intensities: [400, 300, 200, 100], duration: 1, notBefore: 0, notAfter: 2.6, wantStart: 2.6, wantMean: 0.4 * 200 + 0.6 * 100),
        Case(description: "the earliest start on a tie", intensities: [100, 100, 100, 100], duration: 2, notBefore: 0.5, notAfter: 2, wantStart: 0.5, wantMean: 100),
        Case(description: "nil when the window cannot fit before the trace ends", intensities: [1, 2], duration: 3, notBefore: 0, notAfter: 1, wantStart: nil, wantMean: nil),
        Case(description: "nil for an empty range", intensities: [1, 2, 3], duration: 1, notBefore: 2, notAfter: 1, wantStart: nil, wantMean: nil),
        Case(description: "nil for a zero duration", intensities: [1, 2, 3], duration: 0, notBefore: 0, notAfter: 1, wantStart: nil, wantMean: nil),
    ]

    @Test("small cases pinned by hand", arguments: cases)
    func pinned(_ testCase: Case) throws {
        let trace = Self.hourly(testCase.intensities)
        let window = trace.bestWindow(
            duration: testCase.duration * 3600, notBefore: Self.day.addingTimeInterval(testCase.notBefore * 3600),
            notAfter: Self.day.addingTimeInterval(testCase.notAfter * 3600))
        #expect(window?.start == testCase.wantStart.map { Self.day.addingTimeInterval($0 * 3600) })
        if let want = testCase.wantMean {
            let got = try #require(window?.meanIntensity)
            #expect(abs(got - want) < 1e-9)
            #expect(window?.end == window.map { $0.start.addingTimeInterval(testCase.duration * 3600) })
        }
    }

    @Test("on every shipped trace, no start on a one-minute grid beats the best window", arguments: ShippedTraces.names)
    func matchesBruteForce(name: String) throws {
        let trace = try ShippedTraces.load(name)
        var random = SplitMix64(state: UInt64(name.utf8.count))
        let span = trace.end.timeIntervalSince(trace.start)
        for _ in 0..<25 {
            // Minute-aligned inputs, so the grid holds every candidate start (boundaries are whole
            // minutes) and brute force finds the true minimum too.
            let duration = Double(Int.random(in: 1...(8 * 60), using: &random)) * 60
            let range = Double(Int.random(in: 0...(24 * 60), using: &random)) * 60
            let offset = Double(Int.random(in: 0...Int((span - duration - range) / 60), using: &random)) * 60
            let notBefore = trace.start.addingTimeInterval(offset)
            let notAfter = notBefore.addingTimeInterval(range)
            let window = try #require(trace.bestWindow(duration: duration, notBefore: notBefore, notAfter: notAfter))

            var bruteBest = Double.infinity
            var start = notBefore
            while start <= notAfter {
                bruteBest = min(bruteBest, try #require(trace.meanIntensity(from: start, to: start.addingTimeInterval(duration))))
                start = start.addingTimeInterval(60)
            }
            let recomputed = try #require(trace.meanIntensity(from: window.start, to: window.end))
            #expect(window.start >= notBefore && window.start <= notAfter)
            #expect(abs(window.meanIntensity - recomputed) <= 1e-9 * max(1, recomputed))
            #expect(abs(window.meanIntensity - bruteBest) <= 1e-9 * max(1, bruteBest), "\(name) d=\(duration) [\(notBefore), \(notAfter)]")
        }
    }

    @Test("off the grid, the best window is never beaten by any sampled start")
    func beatsArbitraryStarts() throws {
        let trace = try ShippedTraces.load("entsoe_GB_2020_30min.csv")
        var random = SplitMix64(state: 42)
        for _ in 0..<40 {
            let duration = Double.random(in: 600...30_000, using: &random)
            let notBefore = trace.start.addingTimeInterval(Double.random(in: 0...(trace.end.timeIntervalSince(trace.start) - 200_000), using: &random))
            let notAfter = notBefore.addingTimeInterval(Double.random(in: 0...86_400, using: &random))
            let window = try #require(trace.bestWindow(duration: duration, notBefore: notBefore, notAfter: notAfter))
            for _ in 0..<500 {
                let start = notBefore.addingTimeInterval(Double.random(in: 0...notAfter.timeIntervalSince(notBefore), using: &random))
                let mean = try #require(trace.meanIntensity(from: start, to: start.addingTimeInterval(duration)))
                #expect(window.meanIntensity <= mean + 1e-9 * mean)
            }
        }
    }
}
