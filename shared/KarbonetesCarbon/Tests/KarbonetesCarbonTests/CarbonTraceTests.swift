import Foundation
import KarbonetesCarbon
import Testing

@Suite("Looking intensities up and averaging them")
struct CarbonTraceTests {
    /// 00:00 100, 01:00 200, 02:00 50 (until 03:00); 04:00 300 after a one-hour gap, held
    /// until 05:00 (the most common step).
    static let trace: CarbonTrace = {
        let points = [("00:00", 100.0), ("01:00", 200), ("02:00", 50), ("04:00", 300)].map {
            IntensityPoint(time: utc("2022-06-01T\($0.0):00Z"), intensity: $0.1)
        }
        // A literal, valid trace.
        return try! CarbonTrace(points: points, source: "hand")
    }()

    @Test(
        "the intensity at a time is the last reading at or before it, and nothing outside the trace",
        arguments: [
            ("2022-06-01T00:00:00Z", 100.0), ("2022-06-01T00:59:59Z", 100), ("2022-06-01T01:00:00Z", 200),
            ("2022-06-01T02:30:00Z", 50), ("2022-06-01T03:30:00Z", 50), ("2022-06-01T04:59:59Z", 300),
            ("2022-06-01T05:00:00Z", nil), ("2022-05-31T23:59:59Z", nil),
        ] as [(String, Double?)])
    func stepLookup(time: String, want: Double?) {
        #expect(Self.trace.intensity(at: utc(time)) == want)
    }

    @Test(
        "the mean over an interval is exact, partial steps included",
        arguments: [
            ("00:00", "01:00", 100.0), ("00:30", "01:30", 150), ("00:00", "03:00", 350.0 / 3),
            ("00:45", "02:15", (100 * 0.25 + 200 + 50 * 0.25) / 1.5), ("02:00", "05:00", (50 * 2 + 300) / 3.0),
            ("01:10", "01:10", 200),
        ] as [(String, String, Double)])
    func exactMean(from: String, to: String, want: Double) throws {
        let mean = try #require(Self.trace.meanIntensity(from: utc("2022-06-01T\(from):00Z"), to: utc("2022-06-01T\(to):00Z")))
        #expect(abs(mean - want) < 1e-9)
    }

    @Test("a mean the trace does not cover is nil, never a guess", arguments: [("23:00", "01:00"), ("04:00", "05:01"), ("02:00", "01:00")])
    func uncoveredMean(from: String, to: String) {
        let day = { (text: String) in text == "23:00" ? utc("2022-05-31T23:00:00Z") : utc("2022-06-01T\(text):00Z") }
        #expect(Self.trace.meanIntensity(from: day(from), to: day(to)) == nil)
    }

    @Test("segments are clipped to the interval asked")
    func clippedSegments() {
        let segments = Self.trace.segments(from: utc("2022-06-01T00:30:00Z"), to: utc("2022-06-01T02:15:00Z"))
        #expect(segments == [
            TraceSegment(start: utc("2022-06-01T00:30:00Z"), end: utc("2022-06-01T01:00:00Z"), intensity: 100),
            TraceSegment(start: utc("2022-06-01T01:00:00Z"), end: utc("2022-06-01T02:00:00Z"), intensity: 200),
            TraceSegment(start: utc("2022-06-01T02:00:00Z"), end: utc("2022-06-01T02:15:00Z"), intensity: 50),
        ])
        #expect(Self.trace.segment(at: utc("2022-06-01T03:00:00Z"))?.end == utc("2022-06-01T04:00:00Z"))
    }

    @Test(
        "points that do not increase or hold bad numbers are refused",
        arguments: [
            ([(0.0, 1.0), (0, 2)], "point 1: time"), ([(0.0, 1.0), (-60, 2)], "point 1: time"),
            ([(0.0, 1.0), (60, -2)], "point 1: intensity -2.0"), ([(0.0, Double.nan), (60, 2)], "point 0: intensity nan"),
            ([(0.0, 1.0)], "at least two points"),
        ] as [([(Double, Double)], String)])
    func invalidPoints(points: [(Double, Double)], want: String) {
        let built = points.map { IntensityPoint(time: Date(timeIntervalSince1970: $0.0), intensity: $0.1) }
        #expect {
            try CarbonTrace(points: built, source: "built")
        } throws: { error in
            "\(error)".hasPrefix("built: ") && "\(error)".contains(want)
        }
    }

    @Test(
        "percentiles interpolate between closest ranks like numpy",
        arguments: [
            (0.0, [3.0, 1, 2], 1.0 as Double?), (100, [3, 1, 2], 3), (50, [1, 2, 3, 4], 2.5), (95, Array(1...20).map(Double.init), 19.05),
            (30, [10], 10), (50, [], nil), (101, [1], nil),
        ] as [(Double, [Double], Double?)])
    func percentiles(p: Double, values: [Double], want: Double?) {
        let got = Percentile.value(p, of: values)
        #expect((got == nil) == (want == nil))
        if let got, let want { #expect(abs(got - want) < 1e-9) }
    }

    @Test("a trace percentile reads the intensities in force during the interval")
    func tracePercentile() {
        #expect(Self.trace.intensityPercentile(0) == 50)
        #expect(Self.trace.intensityPercentile(100) == 300)
        #expect(Self.trace.intensityPercentile(100, from: utc("2022-06-01T00:00:00Z"), to: utc("2022-06-01T02:00:00Z")) == 200)
    }
}
