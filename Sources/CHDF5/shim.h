// HDF5 C API. Its type and property-list "constants" are macros over mutable globals that exist
// only after H5open(); Swift does not import them and Swift 6 rejects reading the globals.
// Each is re-exported here once as a static inline accessor.
#include <hdf5.h>
#include <string.h>

static inline hid_t sbn_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t sbn_H5T_NATIVE_INT32(void) { return H5T_NATIVE_INT32; }
static inline hid_t sbn_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t sbn_H5T_NATIVE_UINT64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t sbn_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t sbn_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t sbn_H5T_C_S1(void) { return H5T_C_S1; }
static inline hid_t sbn_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t sbn_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t sbn_H5E_DEFAULT(void) { return H5E_DEFAULT; }
static inline unsigned sbn_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned sbn_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned sbn_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
static inline hsize_t sbn_H5S_UNLIMITED(void) { return H5S_UNLIMITED; }
static inline size_t sbn_H5T_VARIABLE(void) { return H5T_VARIABLE; }

// The descriptors of variable-length strings as the file stores them (a 4-byte length, then the
// global heap ID), copied unchanged into an opaque type tagged "sbnlab.vlen-descriptor": a soft
// conversion registered once by SBNStorage, so that the declared lengths can be checked before
// libhdf5's own conversion allocates and clears a buffer of each declared length.
static inline herr_t sbn_vlen_descriptor_conversion(
    hid_t src, hid_t dst, H5T_cdata_t *cdata, size_t count, size_t buf_stride, size_t bkg_stride, void *buf,
    void *bkg, hid_t dxpl) {
    (void)count; (void)buf_stride; (void)bkg_stride; (void)buf; (void)bkg; (void)dxpl;
    if (cdata->command == H5T_CONV_INIT) {
        if (H5Tis_variable_str(src) <= 0 || H5Tget_class(dst) != H5T_OPAQUE) return -1;
        char *tag = H5Tget_tag(dst);
        int ours = tag != NULL && strcmp(tag, "sbnlab.vlen-descriptor") == 0;
        H5free_memory(tag);
        if (!ours) return -1;
        cdata->need_bkg = H5T_BKG_NO;
        return 0;
    }
    // Same sizes: the bytes gathered from the file are the result (in place).
    if (cdata->command == H5T_CONV_CONV) return H5Tget_size(src) == H5Tget_size(dst) ? 0 : -1;
    return 0;
}
