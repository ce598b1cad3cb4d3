extension Matrix: Equatable {
    /// Bitwise equality of shape and live values (used to check reproducibility).
    public static func == (lhs: Matrix, rhs: Matrix) -> Bool {
        guard lhs.rows == rhs.rows, lhs.cols == rhs.cols else { return false }
        for i in 0..<lhs.count where lhs.storage[i].bitPattern != rhs.storage[i].bitPattern { return false }
        return true
    }
}
