public import Foundation

/// A CronJob schedule (five fields, evaluated in UTC as a CronJob without `timeZone` is on a
/// UTC control plane), to generate the arrival times of CronJob-created Jobs.
public struct CronSchedule: Sendable, Hashable {
    public var expression: String
    private var minutes: [Int]
    private var hours: [Int]
    private var daysOfMonth: Set<Int>
    private var months: Set<Int>
    private var weekdays: Set<Int>
    /// Cron's rule: when both day fields are restricted, a day matching either runs.
    private var dayOfMonthRestricted: Bool
    private var weekdayRestricted: Bool

    public init(parsing expression: String) throws {
        let macros = ["@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
                      "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"]
        let text = macros[expression.trimmingCharacters(in: .whitespaces).lowercased()] ?? expression
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else { throw EvalInputError.cron(expression, "has \(fields.count) fields") }
        self.expression = expression
        minutes = try Self.field(fields[0], 0...59, name: "minute", expression).sorted()
        hours = try Self.field(fields[1], 0...23, name: "hour", expression).sorted()
        daysOfMonth = Set(try Self.field(fields[2], 1...31, name: "day of month", expression))
        months = Set(try Self.field(fields[3], 1...12, name: "month", expression))
        weekdays = Set(try Self.field(fields[4], 0...7, name: "day of week", expression).map { $0 % 7 })
        dayOfMonthRestricted = !fields[2].hasPrefix("*")
        weekdayRestricted = !fields[4].hasPrefix("*")
    }

    /// Every scheduled time in [from, to), in order.
    public func times(from: Date, to: Date) -> [Date] {
        var result: [Date] = []
        var day = Int((from.timeIntervalSince1970 / 86_400).rounded(.down))
        let lastDay = Int((to.timeIntervalSince1970 / 86_400).rounded(.down))
        while day <= lastDay {
            if matches(day: day) {
                for hour in hours {
                    for minute in minutes {
                        let time = Date(timeIntervalSince1970: Double(day * 86_400 + hour * 3600 + minute * 60))
                        if time >= from && time < to { result.append(time) }
                    }
                }
            }
            day += 1
        }
        return result
    }

    private func matches(day: Int) -> Bool {
        let (_, month, dayOfMonth) = Self.civil(fromDays: day)
        guard months.contains(month) else { return false }
        // 1970-01-01 was a Thursday (4).
        let weekday = ((day % 7) + 7 + 4) % 7
        let domMatch = daysOfMonth.contains(dayOfMonth)
        let dowMatch = weekdays.contains(weekday)
        if dayOfMonthRestricted && weekdayRestricted { return domMatch || dowMatch }
        return domMatch && dowMatch
    }

    private static func field(_ text: String, _ bounds: ClosedRange<Int>, name: String, _ expression: String) throws -> [Int] {
        var values = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard stepParts.count <= 2 else { throw EvalInputError.cron(expression, "\(name) \"\(item)\" has two steps") }
            var step = 1
            if stepParts.count == 2 {
                guard let parsed = Int(stepParts[1]), parsed > 0 else { throw EvalInputError.cron(expression, "\(name) step \"\(stepParts[1])\" is not a positive number") }
                step = parsed
            }
            let range = stepParts[0]
            var low: Int
            var high: Int
            if range == "*" {
                (low, high) = (bounds.lowerBound, bounds.upperBound)
            } else if let dash = range.firstIndex(of: "-") {
                guard let a = Int(range[..<dash]), let b = Int(range[range.index(after: dash)...]), a <= b else {
                    throw EvalInputError.cron(expression, "\(name) range \"\(range)\" is not LOW-HIGH")
                }
                (low, high) = (a, b)
            } else {
                guard let value = Int(range) else { throw EvalInputError.cron(expression, "\(name) \"\(range)\" is not a number") }
                (low, high) = (value, stepParts.count == 2 ? bounds.upperBound : value)
            }
            guard bounds.contains(low), bounds.contains(high) else {
                throw EvalInputError.cron(expression, "\(name) \"\(item)\" is outside \(bounds.lowerBound)-\(bounds.upperBound)")
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return Array(values)
    }

    /// (year, month, day) of a day number since 1970-01-01 (Howard Hinnant's algorithm).
    static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
