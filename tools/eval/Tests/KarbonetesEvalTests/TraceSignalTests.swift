import Foundation
import KarbonetesCarbon
import KarbonetesEval
import KarbonetesModels
import Testing

@Suite("The signal a strategy sees")
struct TraceSignalTests {
    // 00:00 300, 01:00 300, 02:00 100, 03:00 50, 04:00 300, 05:00 120, then 300 until 12:00.
    static let trace = hourlyTrace([300, 300, 100, 50, 300, 120] + Array(repeating: 300, count: 6))

    struct Case: Sendable {
        var time: String
        var wantGreen: Bool
        var wantWindowStart: String
        var wantWindowEnd: String
        var wantNextGreen: String?
    }

    @Test(
        "a threshold signal reports the run it is in and the next green start",
        arguments: [
            Case(time: "00:30", wantGreen: false, wantWindowStart: "00:00", wantWindowEnd: "02:00", wantNextGreen: "02:00"),
            Case(time: "02:00", wantGreen: true, wantWindowStart: "02:00", wantWindowEnd: "04:00", wantNextGreen: "05:00"),
            Case(time: "04:10", wantGreen: false, wantWindowStart: "04:00", wantWindowEnd: "05:00", wantNextGreen: "05:00"),
            Case(time: "05:59", wantGreen: true, wantWindowStart: "05:00", wantWindowEnd: "06:00", wantNextGreen: nil),
            Case(time: "07:00", wantGreen: false, wantWindowStart: "06:00", wantWindowEnd: "12:00", wantNextGreen: nil),
        ])
    func threshold(_ testCase: Case) throws {
        let signal = TraceSignal(trace: Self.trace, rule: .threshold(150))
        let reading = try #require(signal.reading(at: utc("2022-06-01T\(testCase.time):00Z")).signal)
        #expect(reading.green == testCase.wantGreen)
        #expect(reading.windowStart == utc("2022-06-01T\(testCase.wantWindowStart):00Z"))
        #expect(reading.windowEnd == utc("2022-06-01T\(testCase.wantWindowEnd):00Z"))
        #expect(reading.nextGreenStart == testCase.wantNextGreen.map { utc("2022-06-01T\($0):00Z") })
        #expect(reading.threshold == 150)
    }

    @Test(
        "a static window signal is green inside the daily window, wrapping past midnight",
        arguments: [
            ("22:00-02:00", "2022-06-01T01:00:00Z", true, "2022-05-31T22:00:00Z", "2022-06-01T02:00:00Z", "2022-06-01T22:00:00Z"),
            ("22:00-02:00", "2022-06-01T02:00:00Z", false, "2022-06-01T02:00:00Z", "2022-06-01T22:00:00Z", "2022-06-01T22:00:00Z"),
            ("03:00-05:00", "2022-06-01T00:00:00Z", false, "2022-05-31T05:00:00Z", "2022-06-01T03:00:00Z", "2022-06-01T03:00:00Z"),
            ("03:00-05:00", "2022-06-01T03:00:00Z", true, "2022-06-01T03:00:00Z", "2022-06-01T05:00:00Z", "2022-06-02T03:00:00Z"),
        ])
    func dailyWindow(window: String, time: String, wantGreen: Bool, wantStart: String, wantEnd: String, wantNext: String) throws {
        let signal = TraceSignal(trace: Self.trace, rule: try GreenRule.dailyWindow(parsing: window))
        let reading = try #require(signal.reading(at: utc(time)).signal)
        #expect(reading.green == wantGreen)
        #expect(reading.windowStart == utc(wantStart))
        #expect(reading.windowEnd == utc(wantEnd))
        #expect(reading.nextGreenStart == utc(wantNext))
        #expect(reading.intensity == Self.trace.intensity(at: utc(time)))
    }

    @Test("windows that are not HH:MM-HH:MM or are empty are refused", arguments: ["10-16", "10:00-10:00", "25:00-01:00", "10:00"])
    func badWindows(text: String) {
        #expect(throws: (any Error).self) { try GreenRule.dailyWindow(parsing: text) }
    }

    @Test("outside the trace the signal is unavailable, never invented")
    func outside() {
        let signal = TraceSignal(trace: Self.trace, rule: .threshold(150))
        #expect(signal.reading(at: utc("2022-06-01T12:00:00Z")).signal == nil)
        #expect(signal.reading(at: utc("2022-05-31T23:00:00Z")).signal == nil)
    }

    @Test("a perfect forecast is the trace from the current slot to the deadline")
    func perfectForecast() {
        let signal = TraceSignal(trace: Self.trace, rule: .threshold(150))
        let points = signal.forecast(at: utc("2022-06-01T01:30:00Z"), until: utc("2022-06-01T04:30:00Z"))
        #expect(points.map(\.start) == ["01:00", "02:00", "03:00", "04:00"].map { utc("2022-06-01T\($0):00Z") })
        #expect(points.map(\.intensity) == [300, 100, 50, 300])
        #expect(points.map(\.green) == [false, true, true, false])
        #expect(points.last?.end == utc("2022-06-01T04:30:00Z"))
    }

    @Test("a noisy forecast keeps the current slot, perturbs the others reproducibly, and changes hour to hour")
    func noisyForecast() {
        let noisy = TraceSignal(trace: Self.trace, rule: .threshold(150), noise: ForecastNoise(relativeSigma: 0.3, seed: 5))
        let now = utc("2022-06-01T01:30:00Z"), until = utc("2022-06-01T11:00:00Z")
        let first = noisy.forecast(at: now, until: until)
        #expect(first == noisy.forecast(at: now.addingTimeInterval(600), until: until))
        #expect(first[0].intensity == 300)
        let perturbed = first.dropFirst().map(\.intensity)
        let truth = Self.trace.segments(from: utc("2022-06-01T02:00:00Z"), to: until).map(\.intensity)
        #expect(perturbed != truth)
        #expect(perturbed.allSatisfy { $0 >= 0 })
        let nextHour = noisy.forecast(at: now.addingTimeInterval(3600), until: until)
        #expect(nextHour.dropFirst().map(\.intensity) != Array(perturbed.dropFirst()))
        let silent = TraceSignal(trace: Self.trace, rule: .threshold(150), noise: ForecastNoise(relativeSigma: 0, seed: 5))
        #expect(silent.forecast(at: now, until: until).map(\.intensity) == Self.trace.segments(from: utc("2022-06-01T01:00:00Z"), to: until).map(\.intensity))
    }
}
