import Foundation
import KarbonetesModels
import SignalCore
import Testing

func at(_ text: String) -> Date {
    guard let date = RFC3339.parse(text) else { fatalError("bad test time \(text)") }
    return date
}

func window(_ start: String, _ end: String, _ weekdays: Set<Weekday> = []) -> DailyWindow {
    try! DailyWindow(start: LocalTime(parsing: start), end: LocalTime(parsing: end), weekdays: weekdays)
}

func schedule(_ zone: String, _ windows: [DailyWindow]) -> StaticSchedule {
    StaticSchedule(timeZone: TimeZone(identifier: zone)!, windows: windows, greenIntensity: 100, otherIntensity: 400)
}

struct ReadingCase: CustomStringConvertible, Sendable {
    var name: String
    var zone: String
    var windows: [DailyWindow]
    var now: String
    var wantGreen: Bool
    var wantStart: String
    var wantEnd: String
    var wantNextGreen: String?

    var description: String { name }
}

@Suite("Static windows: time zones, DST and midnight")
struct StaticScheduleTests {
    static let readingCases: [ReadingCase] = [
        ReadingCase(
            name: "UTC noon is inside 10:00-16:00", zone: "UTC", windows: [window("10:00", "16:00")],
            now: "2026-12-03T12:00:00Z",
            wantGreen: true, wantStart: "2026-12-03T10:00:00Z", wantEnd: "2026-12-03T16:00:00Z",
            wantNextGreen: "2026-12-04T10:00:00Z"),
        ReadingCase(
            name: "the end instant is already outside the window", zone: "UTC", windows: [window("10:00", "16:00")],
            now: "2026-12-03T16:00:00Z", wantGreen: false, wantStart: "2026-12-03T16:00:00Z",
            wantEnd: "2026-12-04T10:00:00Z",
            wantNextGreen: "2026-12-04T10:00:00Z"),
        ReadingCase(
            name: "Madrid in winter is UTC+1", zone: "Europe/Madrid", windows: [window("10:00", "16:00")],
            now: "2026-01-15T09:30:00Z",
            wantGreen: true, wantStart: "2026-01-15T09:00:00Z", wantEnd: "2026-01-15T15:00:00Z",
            wantNextGreen: "2026-01-16T09:00:00Z"),
        ReadingCase(
            name: "Madrid in summer is UTC+2", zone: "Europe/Madrid", windows: [window("10:00", "16:00")],
            now: "2026-07-15T14:30:00Z",
            wantGreen: false, wantStart: "2026-07-15T14:00:00Z", wantEnd: "2026-07-16T08:00:00Z",
            wantNextGreen: "2026-07-16T08:00:00Z"),
        ReadingCase(
            name: "a window across midnight seen after midnight", zone: "Europe/Berlin",
            windows: [window("22:00", "06:00")],
            now: "2026-12-04T02:00:00Z", wantGreen: true, wantStart: "2026-12-03T21:00:00Z",
            wantEnd: "2026-12-04T05:00:00Z",
            wantNextGreen: "2026-12-04T21:00:00Z"),
        ReadingCase(
            name: "a night window over the spring-forward change lasts 7 hours", zone: "Europe/Berlin",
            windows: [window("22:00", "06:00")], now: "2026-03-29T00:30:00Z", wantGreen: true,
            wantStart: "2026-03-28T21:00:00Z",
            wantEnd: "2026-03-29T04:00:00Z", wantNextGreen: "2026-03-29T20:00:00Z"),
        ReadingCase(
            name: "a night window over the fall-back change lasts 9 hours", zone: "Europe/Berlin",
            windows: [window("22:00", "06:00")], now: "2026-10-25T01:30:00Z", wantGreen: true,
            wantStart: "2026-10-24T20:00:00Z",
            wantEnd: "2026-10-25T05:00:00Z", wantNextGreen: "2026-10-25T21:00:00Z"),
        ReadingCase(
            name: "New York moves an hour in UTC across its March change", zone: "America/New_York",
            windows: [window("10:00", "16:00")], now: "2026-03-07T22:00:00Z", wantGreen: false,
            wantStart: "2026-03-07T21:00:00Z",
            wantEnd: "2026-03-08T14:00:00Z", wantNextGreen: "2026-03-08T14:00:00Z"),
        ReadingCase(
            name: "weekdays only: Saturday waits for Monday", zone: "UTC",
            windows: [window("10:00", "16:00", [.mon, .tue, .wed, .thu, .fri])], now: "2026-12-05T12:00:00Z",
            wantGreen: false,
            wantStart: "2026-12-04T16:00:00Z", wantEnd: "2026-12-07T10:00:00Z", wantNextGreen: "2026-12-07T10:00:00Z"),
        ReadingCase(
            name: "a Friday-night window runs into Saturday though Saturday is not listed", zone: "UTC",
            windows: [window("20:00", "02:00", [.fri])], now: "2026-12-05T01:00:00Z", wantGreen: true,
            wantStart: "2026-12-04T20:00:00Z", wantEnd: "2026-12-05T02:00:00Z", wantNextGreen: "2026-12-11T20:00:00Z"),
        ReadingCase(
            name: "touching windows merge into one", zone: "UTC",
            windows: [window("10:00", "12:00"), window("12:00", "14:00")],
            now: "2026-12-03T11:00:00Z", wantGreen: true, wantStart: "2026-12-03T10:00:00Z",
            wantEnd: "2026-12-03T14:00:00Z",
            wantNextGreen: "2026-12-04T10:00:00Z"),
        ReadingCase(
            name: "a whole-day window 00:00-24:00 runs from midnight to midnight", zone: "UTC",
            windows: [window("00:00", "24:00", [.thu])],
            now: "2026-12-03T23:59:00Z", wantGreen: true, wantStart: "2026-12-03T00:00:00Z",
            wantEnd: "2026-12-04T00:00:00Z",
            wantNextGreen: "2026-12-10T00:00:00Z"),
    ]

    @Test(
        "the reading at an instant gives green, the window it is in and the next green start", arguments: readingCases)
    func reading(_ testCase: ReadingCase) {
        let reading = schedule(testCase.zone, testCase.windows).reading(at: at(testCase.now))
        #expect(reading.green == testCase.wantGreen)
        #expect(reading.intensity == (testCase.wantGreen ? 100 : 400))
        #expect(reading.windowStart == at(testCase.wantStart))
        #expect(reading.windowEnd == at(testCase.wantEnd))
        #expect(reading.nextGreenStart == testCase.wantNextGreen.map(at))
    }

    @Test(
        "a start in the spring-forward gap begins at the first instant after the gap; one in the repeated hour at its first occurrence"
    )
    func nonexistentAndRepeatedTimes() {
        let spring = schedule("Europe/Berlin", [window("02:30", "04:00")])
            .greenIntervals(from: at("2026-03-28T23:00:00Z"), to: at("2026-03-29T06:00:00Z"))
        #expect(spring.count == 1)
        // 02:30 does not exist on 29 March; Foundation moves it forward by the gap to 03:30 CEST.
        #expect(spring.first?.start == at("2026-03-29T01:30:00Z"))
        #expect(spring.first?.end == at("2026-03-29T02:00:00Z"))
        let autumn = schedule("Europe/Berlin", [window("02:30", "04:00")])
            .greenIntervals(from: at("2026-10-24T23:00:00Z"), to: at("2026-10-25T06:00:00Z"))
        #expect(autumn.first?.start == at("2026-10-25T00:30:00Z"))
        #expect(autumn.first?.end == at("2026-10-25T03:00:00Z"))
    }

    @Test("forecast slots cover the horizon without gaps and are cut at every hour and window edge")
    func forecastSlots() {
        let now = at("2026-12-03T08:20:00Z")
        let points = schedule("UTC", [window("10:30", "16:15")]).forecast(from: now, hours: 48)
        #expect(points.first?.start == at("2026-12-03T08:00:00Z"))
        #expect(points.last?.end == now.addingTimeInterval(48 * 3600))
        for (earlier, later) in zip(points, points.dropFirst()) { #expect(earlier.end == later.start) }
        #expect(points.allSatisfy { $0.end.timeIntervalSince($0.start) <= 3600 })
        let greenTime = points.filter(\.green).reduce(0) { $0 + $1.end.timeIntervalSince($1.start) }
        #expect(greenTime == 2 * (5 * 3600 + 45 * 60))
        #expect(points.contains { $0.start == at("2026-12-03T10:30:00Z") && $0.green })
        #expect(
            points.contains {
                $0.start == at("2026-12-03T10:00:00Z") && !$0.green && $0.end == at("2026-12-03T10:30:00Z")
            })
        #expect(points.allSatisfy { $0.intensity == ($0.green ? 100 : 400) })
    }

    @Test(
        "times of day parse from HH:MM between 00:00 and 24:00 and nothing else",
        arguments: [
            ("10:00", 600), ("9:30", 570), ("00:00", 0), ("24:00", 1440), ("23:59", 1439),
            ("25:00", nil), ("24:01", nil), ("10:60", nil), ("1000", nil), ("ab:cd", nil), ("10:5", nil), ("", nil),
            ("-1:00", nil),
            ("１０:００", nil),
        ] as [(String, Int?)])
    func localTimes(_ text: String, _ wantMinutes: Int?) {
        let parsed = try? LocalTime(parsing: text)
        #expect(parsed?.minutesOfDay == wantMinutes)
    }

    @Test("an empty window and a window starting at 24:00 are refused")
    func badWindows() {
        #expect(throws: StaticScheduleError.self) {
            try DailyWindow(start: LocalTime(parsing: "10:00"), end: LocalTime(parsing: "10:00"))
        }
        #expect(throws: StaticScheduleError.self) {
            try DailyWindow(start: LocalTime(parsing: "24:00"), end: LocalTime(parsing: "02:00"))
        }
    }

    @Test("the static provider's snapshot is valid until its window ends")
    func providerSnapshot() async throws {
        let provider = StaticProvider(schedule: .builtInDefault)
        let snapshot = try await provider.fetch(now: at("2026-12-03T11:00:00Z"))
        #expect(snapshot.current.green)
        #expect(snapshot.current.intensity == 120)
        #expect(snapshot.validUntil == at("2026-12-03T16:00:00Z"))
        #expect(snapshot.current.rule == "static window 10:00-16:00 UTC")
        #expect(snapshot.forecast.count == SignalAPI.maximumForecastHours)
    }
}
