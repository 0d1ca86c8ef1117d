import Foundation
import KarbonetesCarbon
import KarbonetesModels
import SignalCore
import SignalTestKit
import Testing

/// The traces shipped in `data/carbon` (see its README for sources and licences).
enum Traces {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("data/carbon")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Parsed once per file for the whole run (debug builds parse slowly).
    static let parsed: [String: CarbonTrace] = {
        var traces: [String: CarbonTrace] = [:]
        for name in [TraceReplayTests.es, TraceReplayTests.gb, TraceReplayTests.cal, TraceReplayTests.no] {
            traces[name] = try? CarbonTrace.load(contentsOfFile: path(name))
        }
        return traces
    }()

    static let rawLines: [String: [Substring]] = {
        var lines: [String: [Substring]] = [:]
        for name in [TraceReplayTests.es, TraceReplayTests.gb, TraceReplayTests.cal, TraceReplayTests.no] {
            let text = (try? String(contentsOfFile: path(name), encoding: .utf8)) ?? ""
            lines[name] = text.split(whereSeparator: \.isNewline)
        }
        return lines
    }()

    static func load(_ name: String) throws -> CarbonTrace { try #require(parsed[name], "cannot read \(path(name))") }

    /// The intensity on the row starting with `time` read straight from the file, column by
    /// header name, independently of the parser under test.
    static func rawValue(_ name: String, time: String, column: String) throws -> Double? {
        guard let lines = rawLines[name], let first = lines.first else { return nil }
        let header = first.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard let index = header.firstIndex(of: column) else { return nil }
        guard let row = lines.first(where: { $0.hasPrefix(time) }) else { return nil }
        return Double(row.split(separator: ",", omittingEmptySubsequences: false)[index])
    }
}

/// The best start by brute force: every start on a one-minute grid, each mean computed by
/// summing the overlap of the window with each slot.
func bruteForceBest(_ points: [ForecastPoint], notBefore: Date, notAfter: Date, duration: TimeInterval) -> (
    start: Date, mean: Double
)? {
    var best: (start: Date, mean: Double)?
    var start = notBefore
    let coveredUntil = points.last!.end
    while start <= notAfter {
        let end = start.addingTimeInterval(duration)
        guard end <= coveredUntil else { break }
        var sum = 0.0
        for point in points {
            let overlap = min(point.end, end).timeIntervalSince(max(point.start, start))
            if overlap > 0 { sum += overlap * point.intensity }
        }
        let mean = sum / duration
        if best == nil || mean < best!.mean - 1e-9 { best = (start, mean) }
        start = start.addingTimeInterval(60)
    }
    return best
}

struct WindowCase: CustomStringConvertible, Sendable {
    var file: String
    var now: String
    var notBeforeHours: Double
    var notAfterHours: Double
    var duration: String
    var description: String { "\(file) at \(now), \(duration) in [+\(notBeforeHours)h, +\(notAfterHours)h]" }
}

@Suite("Trace replay on the real traces")
struct TraceReplayTests {
    static let es = "electricitymaps_ES_2022_hourly.csv"
    static let gb = "entsoe_GB_2020_30min.csv"
    static let cal = "electricitymaps_US-CAL-CISO_2022_hourly.csv"
    static let no = "electricitymaps_NO_2022_hourly.csv"
    static let lca = "Carbon Intensity gCO₂eq/kWh (LCA)"

    @Test(
        "same time of year: now in 2026 reads the trace's value at the same date and hour, straight from the file",
        arguments: [
            ("2026-12-03T21:30:00Z", "2022-12-03 21:00:00"), ("2026-03-01T00:00:00Z", "2022-03-01 00:00:00"),
            ("2026-07-15T12:59:59Z", "2022-07-15 12:00:00"),
        ])
    func sameTimeOfYear(_ now: String, _ row: String) throws {
        let trace = try Traces.load(Self.es)
        let replay = TraceReplay(trace: trace, alignment: .sameTimeOfYear, anchor: at(now), green: .threshold(150))
        let snapshot = try #require(replay.snapshot(at: at(now)))
        let want = try #require(try Traces.rawValue(Self.es, time: row, column: Self.lca))
        #expect(snapshot.current.intensity == want)
        #expect(snapshot.current.green == (want <= 150))
        #expect(snapshot.source == "trace:\(Self.es)")
    }

    @Test("a fixed offset replays the trace that far back, and the ENTSO-E 30-minute format reads too")
    func offsetAlignment() throws {
        let trace = try Traces.load(Self.gb)
        let offset = TimeInterval(6 * 365 + 1) * 86_400
        let now = at("2026-06-10T08:45:00Z")
        let replay = TraceReplay(trace: trace, alignment: .offset(offset), anchor: now, green: .threshold(200))
        #expect(replay.traceTime(at: now) == at("2020-06-10T08:45:00Z"))
        let snapshot = try #require(replay.snapshot(at: now))
        let want = try #require(try Traces.rawValue(Self.gb, time: "2020-06-10 08:30:00", column: "Carbon Intensity"))
        #expect(snapshot.current.intensity == want)
        #expect(snapshot.current.windowStart <= at("2026-06-10T08:30:00Z"))
    }

    @Test("a speed-up of 60 plays one trace hour per minute and shortens the slots to match")
    func speedup() throws {
        let trace = try Traces.load(Self.es)
        let anchor = at("2026-01-01T00:00:00Z")
        let replay = TraceReplay(
            trace: trace, alignment: .sameTimeOfYear, speedup: 60, anchor: anchor, green: .threshold(150))
        for minute in 0..<5 {
            let snapshot = try #require(replay.snapshot(at: anchor.addingTimeInterval(Double(minute) * 60 + 30)))
            let row = "2022-01-01 0\(minute):00:00"
            #expect(snapshot.current.intensity == (try Traces.rawValue(Self.es, time: row, column: Self.lca)))
        }
        let slots = replay.slots(from: anchor, to: anchor.addingTimeInterval(600))
        #expect(slots.count == 10)
        #expect(slots.allSatisfy { $0.end.timeIntervalSince($0.start) == 60 })
    }

    @Test("the replay loops at the trace's end instead of running out")
    func loops() throws {
        let trace = try Traces.load(Self.es)
        let now = at("2026-12-31T22:30:00Z")
        let replay = TraceReplay(trace: trace, alignment: .sameTimeOfYear, anchor: now, green: .threshold(150))
        let slots = replay.slots(from: now, to: now.addingTimeInterval(4 * 3600))
        #expect(slots.count == 5)
        for (earlier, later) in zip(slots, slots.dropFirst()) { #expect(earlier.end == later.start) }
        let firstOfJanuary = try Traces.rawValue(Self.es, time: "2022-01-01 00:00:00", column: Self.lca)
        #expect(slots[2].intensity == firstOfJanuary)
        #expect(slots[2].start == at("2027-01-01T00:00:00Z"))
    }

    @Test(
        "percentile rule: green exactly when at most the 30th percentile of the next 24 trace hours, computed from the file"
    )
    func percentileRule() throws {
        let trace = try Traces.load(Self.cal)
        let now = at("2026-05-20T00:00:00Z")
        let replay = TraceReplay(trace: trace, alignment: .sameTimeOfYear, anchor: now, green: .percentile(30))
        let snapshot = try #require(replay.snapshot(at: now))
        var day: [Double] = []
        for hour in 0..<24 {
            let row = "2022-05-20 " + (hour < 10 ? "0" : "") + "\(hour):00:00"
            day.append(try #require(try Traces.rawValue(Self.cal, time: row, column: Self.lca)))
        }
        let sorted = day.sorted()
        let rank = 0.3 * 23
        let want = sorted[Int(rank)] + (sorted[Int(rank) + 1] - sorted[Int(rank)]) * (rank - rank.rounded(.down))
        #expect(abs(try #require(snapshot.current.threshold) - want) < 1e-9)
        let next24 = snapshot.forecast.filter { $0.start >= now && $0.start < now.addingTimeInterval(86_400) }
        #expect(next24.count == 24)
        #expect(next24.filter(\.green).count == day.filter { $0 <= want }.count)
        #expect(next24.allSatisfy { $0.green == ($0.intensity <= want) })
        #expect(snapshot.current.rule.hasPrefix("lowest 30% of the next 24h"))
    }

    static let windowCases: [WindowCase] = [
        WindowCase(file: es, now: "2026-03-15T06:00:00Z", notBeforeHours: 0, notAfterHours: 24, duration: "3h"),
        WindowCase(file: es, now: "2026-08-01T13:20:00Z", notBeforeHours: 1, notAfterHours: 30, duration: "90m"),
        WindowCase(file: cal, now: "2026-04-10T00:00:00Z", notBeforeHours: 0, notAfterHours: 48, duration: "4h"),
        WindowCase(file: cal, now: "2026-10-02T17:45:00Z", notBeforeHours: 0.5, notAfterHours: 12, duration: "1h"),
        WindowCase(file: no, now: "2026-11-11T11:11:00Z", notBeforeHours: 0, notAfterHours: 20, duration: "2h30m"),
        WindowCase(file: gb, now: "2026-02-02T09:00:00Z", notBeforeHours: 0, notAfterHours: 24, duration: "2h"),
        WindowCase(file: gb, now: "2026-09-09T21:10:00Z", notBeforeHours: 2, notAfterHours: 40, duration: "45m"),
    ]

    @Test(
        "the best window over a replayed trace matches a brute-force search over every minute", arguments: windowCases)
    func bestWindowMatchesBruteForce(_ testCase: WindowCase) async throws {
        let trace = try Traces.load(testCase.file)
        let now = at(testCase.now)
        let clock = ManualWallClock(now)
        let replay = TraceReplay(trace: trace, alignment: .sameTimeOfYear, anchor: now, green: .percentile(30))
        let engine = SignalEngine(
            regions: [RegionProvider(name: "r", provider: TraceProvider(region: "r", replay: replay))],
            settings: CacheSettings(),
            clock: clock)
        let notBefore = now.addingTimeInterval(testCase.notBeforeHours * 3600)
        let notAfter = now.addingTimeInterval(testCase.notAfterHours * 3600)
        let duration = try GoDuration(parsing: testCase.duration)
        let best = try await engine.bestWindow(
            region: "r", notBefore: notBefore, notAfter: notAfter, duration: duration)
        let points = try #require(replay.snapshot(at: now)).forecast
        let reference = try #require(
            bruteForceBest(points, notBefore: notBefore, notAfter: notAfter, duration: duration.timeInterval))
        #expect(abs(best.meanIntensity - reference.mean) < 1e-6)
        #expect(best.start >= notBefore && best.start <= notAfter)
        #expect(best.end.timeIntervalSince(best.start) == duration.timeInterval)
        // The reported mean is the real mean at the reported start.
        let check = try #require(
            bruteForceBest(points, notBefore: best.start, notAfter: best.start, duration: duration.timeInterval))
        #expect(abs(check.mean - best.meanIntensity) < 1e-6)
    }
}
