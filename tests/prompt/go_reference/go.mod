module zerollm/goreference

go 1.19
