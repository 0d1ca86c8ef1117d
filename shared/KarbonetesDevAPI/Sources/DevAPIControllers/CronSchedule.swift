public import Foundation

/// A standard five-field cron schedule (minute, hour, day of month, month, day of week) with
/// `*`, `*/n`, ranges `a-b`, steps `a-b/n`, lists, month and weekday names, and the
/// `@hourly`/`@daily`/`@weekly`/`@monthly`/`@yearly` macros, read as the CronJob controller
/// reads it: when both day fields are restricted, a day matching either is a match.
public struct CronSchedule: Sendable, Hashable {
    public let minutes: Set<Int>
    public let hours: Set<Int>
    public let daysOfMonth: Set<Int>
    public let months: Set<Int>
    public let daysOfWeek: Set<Int>
    private let dayOfMonthRestricted: Bool
    private let dayOfWeekRestricted: Bool

    public init(parsing text: String) throws(CronScheduleError) {
        let macros = ["@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"]
        let expanded = macros[text.trimmingCharacters(in: .whitespaces).lowercased()] ?? text
        let fields = expanded.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5 else { throw .init(text, "expected 5 fields, found \(fields.count)") }
        minutes = try Self.field(fields[0], range: 0...59, names: [:], schedule: text)
        hours = try Self.field(fields[1], range: 0...23, names: [:], schedule: text)
        daysOfMonth = try Self.field(fields[2], range: 1...31, names: [:], schedule: text)
        let monthNames = ["jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12]
        months = try Self.field(fields[3], range: 1...12, names: monthNames, schedule: text)
        let dayNames = ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6]
        daysOfWeek = Set(try Self.field(fields[4], range: 0...7, names: dayNames, schedule: text).map { $0 % 7 })
        dayOfMonthRestricted = !(fields[2] == "*" || fields[2] == "?")
        dayOfWeekRestricted = !(fields[4] == "*" || fields[4] == "?")
    }

    /// Whether the minute that `date` falls in is scheduled, read in `timeZone`.
    public func matches(_ date: Date, in timeZone: TimeZone) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: date)
        guard let minute = parts.minute, let hour = parts.hour, let day = parts.day, let month = parts.month, let weekday = parts.weekday else {
            return false
        }
        guard minutes.contains(minute), hours.contains(hour), months.contains(month) else { return false }
        let dayOfMonthMatches = daysOfMonth.contains(day)
        let dayOfWeekMatches = daysOfWeek.contains(weekday - 1)
        if dayOfMonthRestricted && dayOfWeekRestricted { return dayOfMonthMatches || dayOfWeekMatches }
        return dayOfMonthMatches && dayOfWeekMatches
    }

    /// The latest scheduled minute at or before `now` and after `after` (looking back at
    /// most `window`), as the controller runs only the most recent missed schedule.
    public func mostRecent(atOrBefore now: Date, after: Date?, in timeZone: TimeZone, window: TimeInterval = 7 * 86_400) -> Date? {
        var minute = (now.timeIntervalSince1970 / 60).rounded(.down) * 60
        let floor = max(after.map { $0.timeIntervalSince1970 } ?? -Double.infinity, now.timeIntervalSince1970 - window)
        while minute > floor {
            let candidate = Date(timeIntervalSince1970: minute)
            if matches(candidate, in: timeZone) { return candidate }
            minute -= 60
        }
        return nil
    }

    private static func field(_ text: String, range: ClosedRange<Int>, names: [String: Int], schedule: String) throws(CronScheduleError) -> Set<Int> {
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            var body = part
            var step = 1
            if let slash = part.firstIndex(of: "/") {
                guard let parsed = Int(part[part.index(after: slash)...]), parsed > 0 else { throw .init(schedule, "bad step in \"\(part)\"") }
                step = parsed
                body = String(part[..<slash])
            }
            let bounds: ClosedRange<Int>
            if body == "*" || body == "?" {
                bounds = range
            } else if let dash = body.firstIndex(of: "-") {
                guard let low = value(String(body[..<dash]), names), let high = value(String(body[body.index(after: dash)...]), names), low <= high else {
                    throw .init(schedule, "bad range \"\(body)\"")
                }
                bounds = low...high
            } else {
                guard let single = value(body, names) else { throw .init(schedule, "bad value \"\(body)\"") }
                bounds = part.contains("/") ? single...range.upperBound : single...single
            }
            guard range.contains(bounds.lowerBound), range.contains(bounds.upperBound) else {
                throw .init(schedule, "\"\(part)\" is outside \(range.lowerBound)-\(range.upperBound)")
            }
            values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return values
    }

    private static func value(_ text: String, _ names: [String: Int]) -> Int? {
        Int(text) ?? names[text.lowercased()]
    }
}

/// A schedule that cannot be read, quoting it.
public struct CronScheduleError: Error, Sendable, CustomStringConvertible {
    public let schedule: String
    public let problem: String

    init(_ schedule: String, _ problem: String) {
        self.schedule = schedule
        self.problem = problem
    }

    public var description: String { "invalid schedule \"\(schedule)\": \(problem)" }
}
