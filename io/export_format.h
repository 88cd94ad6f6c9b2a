#pragma once
// The version of an export directory's meta.json (`zoo export` writes it, zoo::infer reads it).
// Raise it when a field changes meaning or a reader would need one it cannot find; readers
// refuse every other version rather than guess.

namespace zoo {

constexpr int kExportFormatVersion = 1;

}  // namespace zoo
