package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// CheckOutput verifies, before a run starts, that a report can later be
// written to path with WriteFile: a long run must not end in "no such
// directory". It creates and removes a temporary file next to path (the
// way WriteFile will write) and never touches path itself, so that the
// previous report stays intact until a new one replaces it. flag names
// the option in the error ("--out").
//
// A path that exists and is not a regular file (/dev/stdout, a FIFO,
// /dev/null) is written in place; it is opened for writing, without
// truncation, to check the permission. Its write errors (/dev/full) can
// only show when the report is written.
func CheckOutput(flag, path string) error {
	if path == "" {
		return fmt.Errorf("%s: empty path", flag)
	}
	real, fi, err := resolve(path)
	if err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	if fi != nil && fi.IsDir() {
		return fmt.Errorf("%s: %s is a directory", flag, path)
	}
	if fi != nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(real, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", flag, err)
		}
		return f.Close()
	}
	dir := filepath.Dir(real)
	if di, err := os.Stat(dir); err != nil {
		return fmt.Errorf("%s: directory %s: %w", flag, dir, unwrapPath(err))
	} else if !di.IsDir() {
		return fmt.Errorf("%s: %s is not a directory", flag, dir)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(real)+".*.tmp")
	if err != nil {
		return fmt.Errorf("%s: cannot create files in %s: %w", flag, dir, unwrapPath(err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// WriteFile writes data to path so that a reader (or a killed run) sees
// either the previous file or the whole new one, never a truncated file:
// the data goes to a temporary file in the same directory, which is
// synced and renamed over path. The file keeps the mode of the one it
// replaces (0644 for a new one). A path that exists and is not a regular
// file (a device, a FIFO) is written in place: renaming over /dev/stdout
// would replace the device.
func WriteFile(path string, data []byte) error {
	real, fi, err := resolve(path)
	if err != nil {
		return err
	}
	if fi != nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(real, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	mode := fs.FileMode(0o644)
	if fi != nil {
		mode = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(real), "."+filepath.Base(real)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, real)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	return nil
}

// resolve follows symlinks, so that a report written through a link
// replaces the file it points to rather than the link. It returns the
// final path and its FileInfo, nil when it does not exist yet.
func resolve(path string) (string, fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", nil, err
	}
	return real, fi, nil
}

// unwrapPath drops a *PathError's own path when the message already
// names it, keeping "permission denied" rather than the temporary name.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
