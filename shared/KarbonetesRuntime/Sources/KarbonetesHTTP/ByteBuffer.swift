package import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A growable byte queue: bytes are appended at the back and consumed from the front, and the
/// consumed prefix is dropped only once it is at least half the storage, so that feeding a
/// parser one byte at a time stays linear.
package struct ByteBuffer: Sendable {
    package private(set) var storage: [UInt8] = []
    package private(set) var readIndex = 0

    package init() {}

    package var count: Int { storage.count - readIndex }
    package var isEmpty: Bool { count == 0 }

    package mutating func append(_ data: Data) {
        compactIfWorthIt()
        storage.append(contentsOf: data)
    }

    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfWorthIt()
        storage.append(contentsOf: bytes)
    }

    package mutating func append(_ bytes: some Sequence<UInt8>) {
        compactIfWorthIt()
        storage.append(contentsOf: bytes)
    }

    /// The offset (from the readable start) of the first `byte` at or after `offset`, or nil.
    package func firstIndex(of byte: UInt8, from offset: Int = 0) -> Int? {
        guard offset < count else { return nil }
        return storage.withUnsafeBufferPointer { pointer -> Int? in
            let base = UnsafeRawPointer(pointer.baseAddress! + readIndex)
            guard let found = memchr(base + offset, Int32(byte), count - offset) else { return nil }
            return UnsafeRawPointer(found) - base
        }
    }

    package subscript(offset: Int) -> UInt8 { storage[readIndex + offset] }

    /// The readable bytes `range` (offsets from the readable start) without consuming them.
    package func peek(_ range: Range<Int>) -> ArraySlice<UInt8> {
        storage[(readIndex + range.lowerBound)..<(readIndex + range.upperBound)]
    }

    package mutating func consume(_ length: Int) {
        precondition(length <= count)
        readIndex += length
        if readIndex == storage.count {
            storage.removeAll(keepingCapacity: storage.capacity <= 1 << 16)
            readIndex = 0
        }
    }

    package mutating func readData(_ length: Int) -> Data {
        let data = storage.withUnsafeBufferPointer { pointer in
            Data(bytes: pointer.baseAddress! + readIndex, count: length)
        }
        consume(length)
        return data
    }

    package mutating func readAll() -> Data { readData(count) }

    private mutating func compactIfWorthIt() {
        if readIndex > 0 && readIndex >= storage.count / 2 {
            storage.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }
}
