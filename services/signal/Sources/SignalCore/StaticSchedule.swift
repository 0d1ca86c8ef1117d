public import Foundation
public import KarbonetesModels

/// A day of the week as the config file spells it.
public enum Weekday: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case mon, tue, wed, thu, fri, sat, sun

    /// `Calendar`'s numbering: Sunday is 1.
    var calendarWeekday: Int {
        switch self {
        case .sun: 1
        case .mon: 2
        case .tue: 3
        case .wed: 4
        case .thu: 5
        case .fri: 6
        case .sat: 7
        }
    }

    /// `mon` or `monday`, any case.
    public init?(spelling: String) {
        let lower = spelling.lowercased()
        let full = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        if let day = Weekday(rawValue: lower) {
            self = day
        } else if let index = full.firstIndex(of: lower) {
            self = Weekday.allCases[index]
        } else {
            return nil
        }
    }

    public static func < (lhs: Weekday, rhs: Weekday) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A wall-clock time of day, `HH:MM`; `24:00` is allowed as a window's end (midnight after).
public struct LocalTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let minutesOfDay: Int

    public init(hour: Int, minute: Int) {
        precondition((0...24).contains(hour) && (0..<60).contains(minute) && hour * 60 + minute <= 1440)
        minutesOfDay = hour * 60 + minute
    }

    /// Parses `HH:MM` (or `H:MM`), 00:00 to 24:00.
    public init(parsing text: String) throws(StaticScheduleError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let hour = Int(parts[0]), let minute = Int(parts[1]), hour <= 24, minute < 60, hour * 60 + minute <= 1440
        else { throw .badTime(text) }
        self.init(hour: hour, minute: minute)
    }

    public var description: String {
        let hour = minutesOfDay / 60
        let minute = minutesOfDay % 60
        return (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
    }

    public static func < (lhs: LocalTime, rhs: LocalTime) -> Bool { lhs.minutesOfDay < rhs.minutesOfDay }
}

/// A green window repeated every day (or on some weekdays) at the same wall-clock times. An
/// end at or before the start means the window crosses midnight; the weekday is the start's.
public struct DailyWindow: Sendable, Hashable, CustomStringConvertible {
    public var start: LocalTime
    public var end: LocalTime
    /// Empty means every day.
    public var weekdays: Set<Weekday>

    public init(start: LocalTime, end: LocalTime, weekdays: Set<Weekday> = []) throws(StaticScheduleError) {
        guard start.minutesOfDay < 1440 else { throw .badWindow("a window cannot start at 24:00") }
        guard start != end else { throw .badWindow("window \(start)-\(end) is empty: use 00:00-24:00 for a whole day") }
        self.start = start
        self.end = end
        self.weekdays = weekdays
    }

    public var crossesMidnight: Bool { end <= start }

    public var description: String {
        let days = weekdays.isEmpty ? "" : " " + weekdays.sorted().map(\.rawValue).joined(separator: ",")
        return "\(start)-\(end)\(days)"
    }
}

/// The static mock's schedule: daily green windows in an IANA time zone, with one intensity for
/// green hours and one for the rest. Window times are wall-clock times, so a 10:00-16:00 window
/// in Europe/Madrid moves in UTC when the clocks change, and a window across a DST change is an
/// hour longer or shorter. A start inside the spring-forward gap begins at the first valid
/// instant after it; a start in the repeated autumn hour uses its first occurrence.
public struct StaticSchedule: Sendable, Hashable {
    public var timeZone: TimeZone
    /// The zone as the config wrote it (Foundation reports `UTC` as `GMT`).
    public var timeZoneName: String
    public var windows: [DailyWindow]
    public var greenIntensity: Double
    public var otherIntensity: Double

    public init(
        timeZone: TimeZone, timeZoneName: String? = nil, windows: [DailyWindow], greenIntensity: Double,
        otherIntensity: Double
    ) {
        self.timeZone = timeZone
        self.timeZoneName = timeZoneName ?? timeZone.identifier
        self.windows = windows
        self.greenIntensity = greenIntensity
        self.otherIntensity = otherIntensity
    }

    /// The built-in mock for region `default`: green 10:00-16:00 UTC every day at 120
    /// gCO2eq/kWh, otherwise 380.
    public static let builtInDefault = StaticSchedule(
        timeZone: TimeZone(identifier: "UTC")!,
        timeZoneName: "UTC",
        windows: [try! DailyWindow(start: LocalTime(hour: 10, minute: 0), end: LocalTime(hour: 16, minute: 0))],
        greenIntensity: 120,
        otherIntensity: 380
    )

    /// For people: `static window 10:00-16:00 UTC`.
    public var rule: String {
        guard !windows.isEmpty else { return "static: never green (\(timeZoneName))" }
        let list = windows.map(\.description).joined(separator: "; ")
        return "static window\(windows.count > 1 ? "s" : "") \(list) \(timeZoneName)"
    }

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// The green intervals that overlap [from, to], merged where they touch or overlap, in order.
    public func greenIntervals(from: Date, to: Date) -> [DateInterval] {
        guard from < to, !windows.isEmpty else { return [] }
        let calendar = calendar
        var raw: [DateInterval] = []
        // Start a day early: yesterday's window may cross midnight into `from`.
        guard
            var dayNoon = noon(of: from, calendar: calendar).flatMap({
                calendar.date(byAdding: .day, value: -1, to: $0)
            })
        else { return [] }
        while dayNoon < to.addingTimeInterval(86_400) {
            let weekday = calendar.component(.weekday, from: dayNoon)
            for window in windows
            where window.weekdays.isEmpty || window.weekdays.contains(where: { $0.calendarWeekday == weekday }) {
                guard let start = instant(on: dayNoon, minutes: window.start.minutesOfDay, calendar: calendar),
                    let end = instant(
                        on: dayNoon, minutes: window.end.minutesOfDay + (window.crossesMidnight ? 1440 : 0),
                        calendar: calendar)
                else { continue }
                if end > start, end > from, start < to { raw.append(DateInterval(start: start, end: end)) }
            }
            guard let next = calendar.date(byAdding: .day, value: 1, to: dayNoon) else { break }
            dayNoon = noon(of: next, calendar: calendar) ?? next
        }
        raw.sort { $0.start < $1.start }
        var merged: [DateInterval] = []
        for interval in raw {
            if let last = merged.last, interval.start <= last.end {
                merged[merged.count - 1] = DateInterval(start: last.start, end: max(last.end, interval.end))
            } else {
                merged.append(interval)
            }
        }
        return merged
    }

    /// How far around `now` the schedule is searched for windows: a weekday set can put the
    /// next green window up to a week away.
    static let searchSpan: TimeInterval = 8 * 86_400

    /// The state at `now`, with the window it is in and the next green start.
    public func reading(at now: Date) -> CurrentReading {
        let lower = now.addingTimeInterval(-Self.searchSpan)
        let upper = now.addingTimeInterval(Self.searchSpan)
        let intervals = greenIntervals(from: lower, to: upper)
        if let index = intervals.firstIndex(where: { $0.start <= now && now < $0.end }) {
            return CurrentReading(
                intensity: greenIntensity, green: true, rule: rule, windowStart: intervals[index].start,
                windowEnd: intervals[index].end,
                nextGreenStart: index + 1 < intervals.count ? intervals[index + 1].start : nil)
        }
        let previous = intervals.last { $0.end <= now }
        let next = intervals.first { $0.start > now }
        return CurrentReading(
            intensity: otherIntensity, green: false, rule: rule, windowStart: previous?.end ?? lower,
            windowEnd: next?.start ?? upper, nextGreenStart: next?.start)
    }

    /// Slots from the start of the current hour to `now + hours`, cut at every hour and at
    /// every window edge, so that each slot is wholly green or wholly not.
    public func forecast(from now: Date, hours: Int) -> [ForecastPoint] {
        let first = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
        let last = now.addingTimeInterval(TimeInterval(hours) * 3600)
        guard first < last else { return [] }
        let intervals = greenIntervals(from: first, to: last)
        var cuts: Set<Date> = [first, last]
        var mark = first.addingTimeInterval(3600)
        while mark < last {
            cuts.insert(mark)
            mark = mark.addingTimeInterval(3600)
        }
        for interval in intervals {
            if interval.start > first && interval.start < last { cuts.insert(interval.start) }
            if interval.end > first && interval.end < last { cuts.insert(interval.end) }
        }
        let sorted = cuts.sorted()
        return zip(sorted, sorted.dropFirst()).map { start, end in
            let middle = start.addingTimeInterval(end.timeIntervalSince(start) / 2)
            let green = intervals.contains { $0.start <= middle && middle < $0.end }
            return ForecastPoint(
                start: start, end: end, intensity: green ? greenIntensity : otherIntensity, green: green)
        }
    }

    private func noon(of date: Date, calendar: Calendar) -> Date? {
        let day = calendar.dateComponents([.year, .month, .day], from: date)
        return calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day, hour: 12))
    }

    /// The instant `minutes` after local midnight of `dayNoon`'s day (more than 1440 runs into
    /// the following day), resolved in the time zone.
    private func instant(on dayNoon: Date, minutes: Int, calendar: Calendar) -> Date? {
        let dayOffset = minutes / 1440
        let minuteOfDay = minutes % 1440
        guard let day = dayOffset == 0 ? dayNoon : calendar.date(byAdding: .day, value: dayOffset, to: dayNoon) else {
            return nil
        }
        let parts = calendar.dateComponents([.year, .month, .day], from: day)
        return calendar.date(
            from: DateComponents(
                year: parts.year, month: parts.month, day: parts.day, hour: minuteOfDay / 60, minute: minuteOfDay % 60))
    }
}

/// What is wrong with a static schedule in the config, quoting it.
public struct StaticScheduleError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Sendable, Hashable {
        case badTime(String)
        case badWindow(String)
        case badTimeZone(String)
        case badWeekday(String)
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    public static func badTime(_ text: String) -> StaticScheduleError { StaticScheduleError(.badTime(text)) }
    public static func badWindow(_ reason: String) -> StaticScheduleError { StaticScheduleError(.badWindow(reason)) }
    public static func badTimeZone(_ name: String) -> StaticScheduleError { StaticScheduleError(.badTimeZone(name)) }
    public static func badWeekday(_ text: String) -> StaticScheduleError { StaticScheduleError(.badWeekday(text)) }

    public var description: String {
        switch kind {
        case .badTime(let text): return "time \"\(text)\" is not HH:MM between 00:00 and 24:00"
        case .badWindow(let reason): return reason
        case .badTimeZone(let name): return "time zone \"\(name)\" is not an IANA time zone name (like Europe/Madrid)"
        case .badWeekday(let text): return "weekday \"\(text)\" is not one of mon, tue, wed, thu, fri, sat, sun"
        }
    }
}

/// The `static` provider: the schedule, evaluated at the time asked.
public struct StaticProvider: CarbonProvider {
    public let schedule: StaticSchedule
    /// How many hours of forecast each snapshot carries.
    public let forecastHours: Int

    public init(schedule: StaticSchedule, forecastHours: Int = SignalAPI.maximumForecastHours) {
        self.schedule = schedule
        self.forecastHours = forecastHours
    }

    public var kind: String { "static" }

    public func fetch(now: Date) async throws -> ProviderSnapshot {
        let current = schedule.reading(at: now)
        return ProviderSnapshot(
            current: current,
            forecast: schedule.forecast(from: now, hours: forecastHours),
            observedAt: now,
            source: "static",
            validUntil: current.windowEnd
        )
    }
}
