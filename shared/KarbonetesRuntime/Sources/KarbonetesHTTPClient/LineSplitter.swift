package import Foundation

/// Splits a byte stream into lines whatever the chunking: a line may span many pieces and a
/// piece may hold many lines. Holds at most `maxLineLength` bytes of an unfinished line.
package struct LineSplitter: Sendable {
    package let maxLineLength: Int
    private var partial: [UInt8] = []
    /// Set once a line over the cap was met: the lines before it were returned, and every later
    /// call throws, so that no complete line is lost and no long one is buffered.
    package private(set) var overflowed = false

    package init(maxLineLength: Int) { self.maxLineLength = maxLineLength }

    package struct LineTooLong: Error {}

    /// The complete lines in `piece` (with what came before), without their `\n` or `\r\n`, up
    /// to a line over the cap (see ``overflowed``).
    package mutating func append(_ piece: Data) throws -> [Data] {
        if overflowed { throw LineTooLong() }
        var lines: [Data] = []
        var start = piece.startIndex
        while let newline = piece[start...].firstIndex(of: UInt8(ascii: "\n")) {
            var line: Data
            if partial.isEmpty {
                line = piece[start..<newline]
            } else {
                partial.append(contentsOf: piece[start..<newline])
                line = Data(partial)
                partial.removeAll(keepingCapacity: partial.count <= 64 * 1024)
            }
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if line.count > maxLineLength {
                overflowed = true
                partial = []
                return lines
            }
            lines.append(Data(line))
            start = piece.index(after: newline)
        }
        if start < piece.endIndex {
            partial.append(contentsOf: piece[start...])
            if partial.count > maxLineLength {
                overflowed = true
                partial = []
            }
        }
        return lines
    }

    /// The last line when the stream ended without a newline.
    package mutating func finish() -> Data? {
        guard !partial.isEmpty else { return nil }
        defer { partial = [] }
        var line = Data(partial)
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line
    }
}
